//! The site's stylesheet: `site.css` behind a `:root` block of colors computed from the
//! configured primary color.
//!
//! Guarantees: the only configured value that reaches the CSS is the primary color, and only
//! after parsing it as `#rrggbb` here again (anything else falls back to the default color), so
//! no configuration string can inject CSS. The header text color is white or near-black,
//! whichever contrasts more with the primary color (WCAG 2 relative luminance); links use the
//! primary color only when it reaches 4.5:1 on white.
//! Deliberately not: a dark color scheme, or any color configuration beyond the primary color.

use crate::portal::model::Branding;

/// The hand-written stylesheet (system fonts, reading column, renderer classes).
const SITE_CSS: &str = include_str!("../site.css");

/// An sRGB color.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rgb(u8, u8, u8);

/// The default primary color, `#0b5cad` (also the fallback link color).
const DEFAULT: Rgb = Rgb(0x0b, 0x5c, 0xad);
const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
const NEAR_BLACK: Rgb = Rgb(0x11, 0x11, 0x11);
/// WCAG AA contrast for body text.
const MIN_TEXT_CONTRAST: f64 = 4.5;

impl Rgb {
    /// Parses `#rrggbb` (either case); anything else is `None`.
    fn parse(text: &str) -> Option<Rgb> {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        };
        Some(Rgb(byte(0)?, byte(2)?, byte(4)?))
    }

    /// `#rrggbb`, lowercase.
    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2 relative luminance, 0 (black) to 1 (white).
    fn luminance(self) -> f64 {
        fn linear(c: u8) -> f64 {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        }
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    /// WCAG 2 contrast ratio with `other`, 1 to 21.
    fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }
}

/// The site stylesheet for `branding`: `:root{--primary;--on-primary;--link}` then `site.css`.
pub fn stylesheet(branding: &Branding) -> String {
    let primary = Rgb::parse(&branding.primary_color).unwrap_or(DEFAULT);
    let on_primary = if primary.contrast(WHITE) >= primary.contrast(NEAR_BLACK) {
        WHITE
    } else {
        NEAR_BLACK
    };
    let link = if primary.contrast(WHITE) >= MIN_TEXT_CONTRAST {
        primary
    } else {
        DEFAULT
    };
    let mut css = String::with_capacity(SITE_CSS.len() + 96);
    css.push_str(&format!(
        ":root{{--primary:{};--on-primary:{};--link:{}}}\n",
        primary.hex(),
        on_primary.hex(),
        link.hex()
    ));
    css.push_str(SITE_CSS);
    css
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branding(color: &str) -> Branding {
        Branding {
            primary_color: color.to_owned(),
            ..Branding::default()
        }
    }

    fn root(css: &str) -> &str {
        css.lines().next().unwrap()
    }

    #[test]
    fn the_stylesheet_starts_with_the_validated_primary_color() {
        let css = stylesheet(&branding("#AA3300"));
        assert_eq!(
            root(&css),
            ":root{--primary:#aa3300;--on-primary:#ffffff;--link:#aa3300}"
        );
        assert!(css.ends_with(SITE_CSS));
    }

    #[test]
    fn a_light_primary_color_gets_dark_header_text_and_the_default_link_color() {
        let css = stylesheet(&branding("#ffd400"));
        assert_eq!(
            root(&css),
            ":root{--primary:#ffd400;--on-primary:#111111;--link:#0b5cad}"
        );
    }

    #[test]
    fn an_unvalidated_color_never_reaches_the_css() {
        for bad in [
            "#0b5cad;}body{background:url(https://evil.example/x)}",
            "red",
            "#fff",
            "#12345g",
            "</style><script>",
            "",
        ] {
            let css = stylesheet(&branding(bad));
            assert_eq!(
                root(&css),
                ":root{--primary:#0b5cad;--on-primary:#ffffff;--link:#0b5cad}",
                "{bad:?}"
            );
            assert!(!css.contains("evil.example") && !css.contains("<script"));
        }
    }

    #[test]
    fn contrast_follows_wcag() {
        assert!((WHITE.contrast(Rgb(0, 0, 0)) - 21.0).abs() < 1e-9);
        assert!((DEFAULT.contrast(WHITE) - 6.6).abs() < 0.2);
        assert!(DEFAULT.contrast(WHITE) >= MIN_TEXT_CONTRAST);
    }

    #[test]
    fn the_stylesheet_covers_the_renderers_classes_and_the_sites_hooks() {
        for selector in [
            ".kb-panel-info",
            ".kb-panel-note",
            ".kb-panel-warning",
            ".kb-panel-tip",
            ".kb-panel-title",
            ".kb-expand",
            ".kb-code",
            ".kb-noformat",
            ".kb-children",
            ".kb-tasks",
            ".skip:focus",
            ":focus-visible",
            ".visually-hidden",
            "mark",
            "@media (max-width: 40rem)",
        ] {
            assert!(SITE_CSS.contains(selector), "{selector}");
        }
        for forbidden in ["@import", "url(", "expression(", "<"] {
            assert!(!SITE_CSS.contains(forbidden), "{forbidden}");
        }
    }
}
