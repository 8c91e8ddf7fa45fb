//! What each virtual customer requests: the route mix (`--mix`), turned into a fixed pool of
//! request targets per customer and route, or the `--path` list.
//!
//! Ids, words and file names come from the simulator's corpus (the one the demo serves): mostly
//! items the customer may see (answered 2xx), about one in ten hidden from them (answered 404,
//! which is then expected, not an error). Guarantees: the pools are built once and are small (a
//! few hundred targets per customer); [`Plan::next`] allocates nothing but a `Uri` clone.
//! Deliberately not: random choice — the order is a deterministic weighted round robin.

use std::collections::BTreeSet;

use http::Uri;

use crate::sim::{ContentKind, Corpus};

/// A route of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteKind {
    /// `{prefix}/rest/api/search?cql=text ~ "word"&limit=25`
    Search,
    /// `{prefix}/rest/api/content/{id}?expand=body.storage,ancestors,metadata.labels`
    Page,
    /// `{prefix}/rest/api/content/{id}/child/page`
    Children,
    /// `{prefix}/download/attachments/{page}/{file}`
    Attachment,
    /// The KB site: `/`, `/search?q=word`, `/articles/{id}`.
    Site,
}

impl RouteKind {
    /// Every route, in the order of the default mix.
    pub const ALL: [RouteKind; 5] = [
        RouteKind::Search,
        RouteKind::Page,
        RouteKind::Children,
        RouteKind::Attachment,
        RouteKind::Site,
    ];

    /// The name used in `--mix` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            RouteKind::Search => "search",
            RouteKind::Page => "page",
            RouteKind::Children => "children",
            RouteKind::Attachment => "attachment",
            RouteKind::Site => "site",
        }
    }
}

/// Route weights from `--mix`, e.g. `search=40,page=25`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    /// Routes with a weight above zero, in the order written.
    pub weights: Vec<(RouteKind, u32)>,
}

/// Largest sum of weights (keeps the round-robin sequence small).
const MAX_TOTAL_WEIGHT: u32 = 10_000;

impl Mix {
    /// Parses `name=weight,…`; names are those of [`RouteKind::name`], each at most once; a
    /// weight may be 0 (route left out) but not every weight.
    pub fn parse(text: &str) -> Result<Mix, String> {
        let mut weights = Vec::new();
        let mut seen = BTreeSet::new();
        let mut total: u32 = 0;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not route=weight"))?;
            let route = RouteKind::ALL
                .into_iter()
                .find(|r| r.name() == name.trim())
                .ok_or_else(|| {
                    let names: Vec<&str> = RouteKind::ALL.iter().map(|r| r.name()).collect();
                    format!(
                        "unknown route {:?} (routes: {})",
                        name.trim(),
                        names.join(", ")
                    )
                })?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("the weight of {} is not a whole number", route.name()))?;
            if !seen.insert(route) {
                return Err(format!("{} is given twice", route.name()));
            }
            total = total.saturating_add(weight);
            if weight > 0 {
                weights.push((route, weight));
            }
        }
        if total == 0 {
            return Err("the mix needs at least one route with a weight above 0".to_owned());
        }
        if total > MAX_TOTAL_WEIGHT {
            return Err(format!(
                "the weights add up to more than {MAX_TOTAL_WEIGHT}"
            ));
        }
        Ok(Mix { weights })
    }
}

/// What status a planned request should get; anything else is an "unexpected status" error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// 2xx: the customer may see it.
    Success,
    /// 404: hidden from the customer (looks missing).
    Missing,
    /// Below 400 (`--path` targets).
    NotError,
}

impl Expect {
    /// Whether `status` is what was expected.
    pub fn admits(self, status: u16) -> bool {
        match self {
            Expect::Success => (200..300).contains(&status),
            Expect::Missing => status == 404,
            Expect::NotError => status < 400,
        }
    }
}

/// One request target and its expected status.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Origin-form target (`/path?query`), base path of the target URL included.
    pub uri: Uri,
    /// The status it should get.
    pub expect: Expect,
}

/// The targets of every customer on every route, and the route order.
#[derive(Debug)]
pub struct Plan {
    routes: Vec<String>,
    /// Route indexes in smooth weighted round-robin order (one cycle).
    sequence: Vec<usize>,
    /// `pools[customer % len][route]`: the targets of a route for a customer.
    pools: Vec<Vec<Vec<Planned>>>,
}

/// Where a connection is in the plan: it advances on every request.
#[derive(Debug, Clone)]
pub struct Cursor {
    step: usize,
    per_route: Vec<usize>,
}

impl Plan {
    /// The route names, indexed like [`Plan::next`]'s route index.
    pub fn routes(&self) -> &[String] {
        &self.routes
    }

    /// A cursor for connection number `n` (connections start at different places).
    pub fn cursor(&self, n: usize) -> Cursor {
        Cursor {
            step: n.wrapping_mul(7) % self.sequence.len().max(1),
            per_route: vec![n; self.routes.len()],
        }
    }

    /// The next request of `customer` at `cursor`, with its route index.
    pub fn next(&self, customer: usize, cursor: &mut Cursor) -> Option<(usize, &Planned)> {
        let route = *self
            .sequence
            .get(cursor.step % self.sequence.len().max(1))?;
        cursor.step = cursor.step.wrapping_add(1);
        let pools = self.pools.get(customer % self.pools.len().max(1))?;
        let pool = pools.get(route)?;
        let slot = cursor.per_route.get_mut(route)?;
        let planned = pool.get(*slot % pool.len().max(1))?;
        *slot = slot.wrapping_add(1);
        Some((route, planned))
    }

    /// The `--path` plan: every path in turn, each its own route, the same for every customer.
    pub fn for_paths(base: &str, paths: &[String]) -> Result<Plan, String> {
        let mut routes = Vec::new();
        let mut pool = Vec::new();
        for p in paths {
            routes.push(p.clone());
            pool.push(vec![Planned {
                uri: uri(base, p)?,
                expect: Expect::NotError,
            }]);
        }
        Ok(Plan {
            sequence: (0..routes.len()).collect(),
            routes,
            pools: vec![pool],
        })
    }

    /// The mix plan for customers of `orgs` (one entry per customer) over `corpus`.
    pub fn for_mix(
        mix: &Mix,
        corpus: &Corpus,
        orgs: &[Vec<String>],
        base: &str,
        api_prefix: &str,
    ) -> Result<Plan, String> {
        let words = search_words(corpus);
        let mut pools = Vec::new();
        for customer_orgs in orgs {
            let orgs: Vec<&str> = customer_orgs.iter().map(String::as_str).collect();
            let t = Targets {
                corpus,
                words: &words,
                visible: corpus.visible_ids_for(&orgs).into_iter().collect(),
                base,
                api: format!("{base}{api_prefix}"),
            };
            let mut by_route = Vec::new();
            for (route, _) in &mix.weights {
                let pool = t.pool(*route)?;
                if pool.is_empty() {
                    return Err(format!("the corpus gives no {} target", route.name()));
                }
                by_route.push(pool);
            }
            pools.push(by_route);
        }
        Ok(Plan {
            routes: mix
                .weights
                .iter()
                .map(|(r, _)| r.name().to_owned())
                .collect(),
            sequence: smooth_round_robin(&mix.weights.iter().map(|(_, w)| *w).collect::<Vec<_>>()),
            pools,
        })
    }
}

/// The request order for `weights`: smooth weighted round robin over one cycle (length = sum
/// of the weights divided by their gcd), so routes interleave instead of coming in blocks.
pub fn smooth_round_robin(weights: &[u32]) -> Vec<usize> {
    let divisor = weights.iter().copied().fold(0, gcd).max(1);
    let weights: Vec<i64> = weights.iter().map(|w| i64::from(w / divisor)).collect();
    let total: i64 = weights.iter().sum();
    let mut current = vec![0i64; weights.len()];
    let mut order = Vec::new();
    for _ in 0..total {
        for (c, w) in current.iter_mut().zip(&weights) {
            *c += w;
        }
        let best = current
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
            .map(|(i, _)| i)
            .unwrap_or(0);
        if let Some(c) = current.get_mut(best) {
            *c -= total;
        }
        order.push(best);
    }
    order
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `base` + `target` as an origin-form URI.
fn uri(base: &str, target: &str) -> Result<Uri, String> {
    format!("{base}{target}")
        .parse()
        .map_err(|_| format!("{base}{target:?} is not a valid request target"))
}

/// Lower-case title words of the corpus (letters only, 4+ characters, canaries left out).
fn search_words(corpus: &Corpus) -> Vec<String> {
    let words: BTreeSet<String> = corpus
        .items()
        .iter()
        .flat_map(|i| i.title.split(|c: char| !c.is_ascii_alphabetic()))
        .filter(|w| w.len() >= 4)
        .map(str::to_ascii_lowercase)
        .filter(|w| w != "canary")
        .collect();
    words.into_iter().take(40).collect()
}

/// What a path segment must percent-encode (and nothing more: kbgate refuses ambiguous
/// encodings such as `%2E`).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// One hidden target in about ten.
const HIDDEN_EVERY: usize = 9;

/// Builds one customer's pools.
struct Targets<'a> {
    corpus: &'a Corpus,
    words: &'a [String],
    visible: BTreeSet<String>,
    base: &'a str,
    api: String,
}

impl Targets<'_> {
    fn pool(&self, route: RouteKind) -> Result<Vec<Planned>, String> {
        let enc = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
        let planned = |target: String, expect| -> Result<Planned, String> {
            Ok(Planned {
                uri: uri("", &target)?,
                expect,
            })
        };
        let mut out = Vec::new();
        match route {
            RouteKind::Search => {
                for w in self.words {
                    let cql = enc(&format!("text ~ \"{w}\""));
                    let t = format!("{}/rest/api/search?cql={cql}&limit=25", self.api);
                    out.push(planned(t, Expect::Success)?);
                }
            }
            RouteKind::Page => {
                for (id, expect) in self.ids(|_| true) {
                    let t = format!(
                        "{}/rest/api/content/{id}?expand=body.storage,ancestors,metadata.labels",
                        self.api
                    );
                    out.push(planned(t, expect)?);
                }
            }
            RouteKind::Children => {
                for (id, expect) in self.ids(|kind| kind == ContentKind::Page) {
                    let t = format!("{}/rest/api/content/{id}/child/page", self.api);
                    out.push(planned(t, expect)?);
                }
            }
            RouteKind::Attachment => {
                for (id, expect) in self.ids(|_| true) {
                    for a in self.corpus.attachments(&id) {
                        let file =
                            percent_encoding::utf8_percent_encode(&a.file_name, PATH_SEGMENT);
                        let t = format!("{}/download/attachments/{id}/{file}", self.api);
                        out.push(planned(t, expect)?);
                    }
                }
            }
            RouteKind::Site => {
                for (n, (id, expect)) in self.ids(|_| true).into_iter().enumerate() {
                    if n % 10 == 0 {
                        out.push(planned(format!("{}/", self.base), Expect::Success)?);
                    }
                    if let Some(w) = self.words.get(n % self.words.len().max(1)) {
                        if n % 3 == 0 {
                            let t = format!("{}/search?q={}", self.base, enc(w));
                            out.push(planned(t, Expect::Success)?);
                        }
                    }
                    out.push(planned(format!("{}/articles/{id}", self.base), expect)?);
                }
            }
        }
        Ok(out)
    }

    /// Ids of items of the kinds `keep` admits: the visible ones, with a hidden one after
    /// every [`HIDDEN_EVERY`] (cycling through the hidden ones).
    fn ids(&self, keep: impl Fn(ContentKind) -> bool) -> Vec<(String, Expect)> {
        let items = self.corpus.items().iter().filter(|i| keep(i.kind));
        let (visible, hidden): (Vec<_>, Vec<_>) = items.partition(|i| self.visible.contains(&i.id));
        let mut out = Vec::new();
        let mut hidden_ids = hidden.iter().cycle();
        for (n, item) in visible.iter().enumerate() {
            out.push((item.id.clone(), Expect::Success));
            if n % HIDDEN_EVERY == HIDDEN_EVERY - 1 {
                if let Some(h) = hidden_ids.next() {
                    out.push((h.id.clone(), Expect::Missing));
                }
            }
        }
        if visible.is_empty() {
            out.extend(hidden.iter().map(|h| (h.id.clone(), Expect::Missing)));
        }
        out
    }
}
