//! Calendar arithmetic for the simulator: Unix seconds ⇄ `YYYY-MM-DD`, Confluence's ISO-8601
//! timestamps (`2024-01-01T08:00:00.000Z`) and its "friendly" dates (`Jan 01, 2024`).
//!
//! Guarantees: exact proleptic-Gregorian conversion (UTC only) for years 1970..=9999.
//! Deliberately not: time zones, leap seconds, or a wall clock — the simulator's "now" is the
//! fixed [`SIM_NOW`] so that answers are reproducible.

/// The simulator's fixed "now": 2025-06-01T12:00:00Z. CQL date functions are relative to it.
pub const SIM_NOW: i64 = 1_748_779_200;

const DAY: i64 = 86_400;
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 for a civil date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month 1..=12, day 1..=31) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2024-01-01T08:00:00.000Z`, the shape of Confluence's `lastModified` and `version.when`.
pub fn iso8601(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(DAY));
    let rem = secs.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `Jan 01, 2024`, the shape of Confluence's `friendlyLastModified`.
pub fn friendly(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(DAY));
    let name = MONTHS
        .get((m as usize).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    format!("{name} {d:02}, {y}")
}

/// `(year, month, day)` of a timestamp, for blog-post URLs (`/blog/2024/01/15/…`).
pub fn ymd(secs: i64) -> (i64, u32, u32) {
    civil_from_days(secs.div_euclid(DAY))
}

/// Parses a CQL date literal: `yyyy-MM-dd`, `yyyy/MM/dd`, optionally followed by ` HH:mm`.
pub fn parse_cql_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = match text.split_once(' ') {
        Some((d, t)) => (d, Some(t.trim())),
        None => (text, None),
    };
    let mut parts = date.split(['-', '/']);
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * DAY;
    if let Some(time) = time {
        let (h, m) = time.split_once(':')?;
        let h: i64 = h.parse().ok()?;
        let m: i64 = m.parse().ok()?;
        if !(0..24).contains(&h) || !(0..60).contains(&m) {
            return None;
        }
        secs += h * 3600 + m * 60;
    }
    Some(secs)
}

/// Parses a CQL relative offset such as `-4w`, `+2d`, `-1y 2M` into seconds (months = 30 days,
/// years = 365 days, which is close enough for a simulator).
pub fn parse_offset(text: &str) -> Option<i64> {
    let mut total = 0i64;
    for part in text.split_whitespace() {
        let (sign, rest) = match part.strip_prefix('-') {
            Some(r) => (-1, r),
            None => (1, part.strip_prefix('+').unwrap_or(part)),
        };
        let unit = rest.chars().last()?;
        let amount: i64 = rest.get(..rest.len() - unit.len_utf8())?.parse().ok()?;
        let unit_secs = match unit {
            'y' => 365 * DAY,
            'M' => 30 * DAY,
            'w' => 7 * DAY,
            'd' => DAY,
            'h' => 3600,
            'm' => 60,
            _ => return None,
        };
        total = total.checked_add(sign * amount.checked_mul(unit_secs)?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 1, 1), 19_723);
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn timestamps_render_in_confluence_shapes() {
        let t = days_from_civil(2024, 1, 1) * DAY + 8 * 3600;
        assert_eq!(iso8601(t), "2024-01-01T08:00:00.000Z");
        assert_eq!(friendly(t), "Jan 01, 2024");
        assert_eq!(iso8601(SIM_NOW), "2025-06-01T12:00:00.000Z");
    }

    #[test]
    fn cql_dates_and_offsets_parse() {
        assert_eq!(
            parse_cql_date("2024/01/01"),
            Some(days_from_civil(2024, 1, 1) * DAY)
        );
        assert_eq!(
            parse_cql_date("2024-01-01 10:30"),
            Some(19_723 * DAY + 37_800)
        );
        assert_eq!(parse_cql_date("2024-13-01"), None);
        assert_eq!(parse_offset("-4w"), Some(-28 * DAY));
        assert_eq!(parse_offset("+1d 2h"), Some(DAY + 7200));
        assert_eq!(parse_offset("4x"), None);
    }
}
