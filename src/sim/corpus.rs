//! The simulated Confluence site's content, built deterministically from a seed, and the
//! simulator's **own** model of who may see what (the oracle kbgate is tested against).
//!
//! Guarantees: ids never depend on the seed (see the fixed-id table in the `sim` module doc);
//! canaries, dates and versions do, deterministically. Every item that is not [`Audience::Shared`]
//! carries a unique canary in its title, its body, its excerpt text and (lower-cased) as a label.
//! Deliberately not: kbgate's policy code — the audience model here is written independently from
//! DESIGN.md §1 (labels, subtree 200000 → initech, `kb-internal`, non-KB spaces), so a bug in
//! kbgate's policy cannot hide itself.

use std::collections::{HashMap, HashSet};

use super::corpus_data::{Spec, B, SPECS};
use super::corpus_files::{self, SimAttachment, SimComment};
use super::dates;

/// The organizations the simulator knows.
pub const ORGS: &[&str] = &["acme", "globex", "initech"];
/// Prefix of organization labels (`org-acme`).
pub const LABEL_PREFIX: &str = "org-";
/// Label that hides an item from every customer.
pub const INTERNAL_LABEL: &str = "kb-internal";
/// Key of the customer knowledge-base space.
pub const KB_SPACE: &str = "KB";
/// Key of the engineering space, never visible to customers.
pub const ENG_SPACE: &str = "ENG";
/// Subtree roots and the organizations they belong to (kbgate's demo config must match).
pub const SUBTREES: &[(&str, &[&str])] = &[(INITECH_ROOT_ID, &["initech"])];

/// KB space home page (shared).
pub const KB_HOME_ID: &str = "100001";
/// Acme article under the shared "Getting started" page.
pub const ACME_UNDER_SHARED_ID: &str = "100005";
/// Article labelled both `org-acme` and `org-globex`.
pub const ACME_GLOBEX_ID: &str = "100011";
/// Acme-labelled parent of shared children.
pub const ACME_PARENT_ID: &str = "100012";
/// Shared (unlabelled) page whose parent is [`ACME_PARENT_ID`].
pub const SHARED_UNDER_ACME_ID: &str = "100013";
/// `kb-internal` article.
pub const INTERNAL_ID: &str = "100019";
/// Shared page whose storage body links to [`ACME_UNDER_SHARED_ID`] by title.
pub const LINKS_TO_HIDDEN_ID: &str = "100025";
/// Root of the initech subtree (unlabelled; initech by subtree).
pub const INITECH_ROOT_ID: &str = "200000";
/// Page under the initech subtree labelled `org-acme`: the restrictions intersect to nobody.
pub const INITECH_CONFLICT_ID: &str = "200004";
/// Acme page with 60 labels, its `org-acme` label the 55th.
pub const MANY_LABELS_ID: &str = "100036";
/// ENG space home page.
pub const ENG_HOME_ID: &str = "300001";

/// Who may see an item, by the simulator's own model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every authenticated customer.
    Shared,
    /// Customers of any of these organizations.
    Orgs(Vec<String>),
    /// No customer (internal, non-KB space, or restrictions that intersect to nothing).
    Nobody,
}

impl Audience {
    /// Whether a caller belonging to `orgs` may see the item.
    pub fn admits(&self, orgs: &[&str]) -> bool {
        match self {
            Audience::Shared => true,
            Audience::Orgs(allowed) => allowed.iter().any(|a| orgs.contains(&a.as_str())),
            Audience::Nobody => false,
        }
    }
}

/// Confluence content type of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// `page`
    Page,
    /// `blogpost`
    BlogPost,
}

impl ContentKind {
    /// The CQL / JSON `type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Page => "page",
            ContentKind::BlogPost => "blogpost",
        }
    }
}

/// One block of an item's body; storage and view formats are rendered from these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    Heading(String),
    Para(String),
    /// The `children` macro.
    Children,
    /// A link to another item (by id; storage names it by title).
    Link(String),
    /// The `include` macro (by id; storage names it by title).
    Include(String),
    /// The `contentbylabel` macro for a label.
    ByLabel(String),
    /// An image of another item's first attachment (by id).
    ImageOf(String),
}

/// One page or blog post of the simulated site.
#[derive(Debug, Clone)]
pub struct SimItem {
    /// Numeric content id.
    pub id: String,
    /// Title (ends with the canary when the item is not shared).
    pub title: String,
    /// Space key (`KB` or `ENG`).
    pub space_key: String,
    /// Labels, lowercase, including the canary label.
    pub labels: Vec<String>,
    /// Parent page id (`None` for space roots and blog posts).
    pub parent_id: Option<String>,
    /// Who may see it, by the simulator's model.
    pub audience: Audience,
    /// The item's canary (`None` exactly when shared).
    pub canary: Option<String>,
    /// Page or blog post.
    pub kind: ContentKind,
    /// Plain text of the body (the excerpt source; starts with the canary if any).
    pub text: String,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// Last modification time, Unix seconds.
    pub last_modified: i64,
    /// Version number.
    pub version: u32,
    pub(crate) blocks: Vec<Block>,
}

/// A space of the simulated site.
#[derive(Debug, Clone)]
pub struct SimSpace {
    /// Numeric space id.
    pub id: u64,
    /// Space key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Id of the space's home page.
    pub homepage_id: String,
}

/// The whole simulated site.
#[derive(Debug, Clone)]
pub struct Corpus {
    items: Vec<SimItem>,
    index: HashMap<String, usize>,
    spaces: Vec<SimSpace>,
    attachments: Vec<SimAttachment>,
    comments: Vec<SimComment>,
}

/// SplitMix64: a tiny, well-mixed deterministic hash for canaries and dates.
fn mix(seed: u64, salt: u64) -> u64 {
    let mut z = seed.wrapping_add(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Corpus {
    /// Builds the corpus for `seed`.
    pub fn generate(seed: u64) -> Self {
        let parents: HashMap<u32, Option<u32>> = SPECS.iter().map(|s| (s.id, s.parent)).collect();
        let mut used = HashSet::new();
        let base = dates::days_from_civil(2024, 1, 1) * 86_400;
        let mut items = Vec::with_capacity(SPECS.len());
        for spec in SPECS {
            let audience = audience_of(spec, &ancestor_ids(spec.id, &parents));
            let canary = canary_tag(spec, &audience).map(|tag| {
                let mut salt = u64::from(spec.id);
                loop {
                    let candidate = format!("CANARY-{tag}-{:06x}", mix(seed, salt) & 0xFF_FFFF);
                    if used.insert(candidate.clone()) {
                        break candidate;
                    }
                    salt = salt.wrapping_add(1_000_003);
                }
            });
            let h = mix(seed ^ 0xDA7E, u64::from(spec.id));
            let created = base + ((h % 300) as i64) * 86_400 + ((h >> 16) % 86_400) as i64;
            let last_modified = created + ((h >> 40) % 120) as i64 * 86_400 + 3_600;
            items.push(build_item(
                spec,
                audience,
                canary,
                created,
                last_modified,
                (h >> 8) % 7,
            ));
        }
        // Like Confluence's index, the text a search excerpt is cut from includes the link text
        // of every page a body links to, which is that page's title.
        let titles: std::collections::HashMap<String, String> = items
            .iter()
            .map(|it| (it.id.clone(), it.title.clone()))
            .collect();
        for item in &mut items {
            let linked: Vec<String> = item
                .blocks
                .iter()
                .filter_map(|b| match b {
                    Block::Link(target) => titles.get(target).cloned(),
                    _ => None,
                })
                .collect();
            for title in linked {
                item.text.push_str("\nSee also: ");
                item.text.push_str(&title);
            }
        }
        let index = items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.id.clone(), i))
            .collect();
        let spaces = vec![
            SimSpace {
                id: 196_609,
                key: KB_SPACE.to_owned(),
                name: "Customer Knowledge Base".to_owned(),
                homepage_id: KB_HOME_ID.to_owned(),
            },
            SimSpace {
                id: 196_610,
                key: ENG_SPACE.to_owned(),
                name: "Engineering".to_owned(),
                homepage_id: ENG_HOME_ID.to_owned(),
            },
        ];
        let (attachments, comments) = corpus_files::generate(&items);
        Corpus {
            items,
            index,
            spaces,
            attachments,
            comments,
        }
    }

    /// Every item, in table order (parents before children).
    pub fn items(&self) -> &[SimItem] {
        &self.items
    }

    /// The item with this id.
    pub fn get(&self, id: &str) -> Option<&SimItem> {
        self.index.get(id).and_then(|&i| self.items.get(i))
    }

    /// The attachments of page `page_id`, in id order.
    pub fn attachments(&self, page_id: &str) -> Vec<&SimAttachment> {
        self.attachments
            .iter()
            .filter(|a| a.page_id == page_id)
            .collect()
    }

    /// The attachment with this id (`att…`).
    pub fn attachment(&self, id: &str) -> Option<&SimAttachment> {
        self.attachments.iter().find(|a| a.id == id)
    }

    /// The attachment of page `page_id` named `file_name`.
    pub fn attachment_named(&self, page_id: &str, file_name: &str) -> Option<&SimAttachment> {
        self.attachments
            .iter()
            .find(|a| a.page_id == page_id && a.file_name == file_name)
    }

    /// The footer comments of page `page_id`.
    pub fn comments(&self, page_id: &str) -> Vec<&SimComment> {
        self.comments
            .iter()
            .filter(|c| c.page_id == page_id)
            .collect()
    }

    /// The comment with this id.
    pub fn comment(&self, id: &str) -> Option<&SimComment> {
        self.comments.iter().find(|c| c.id == id)
    }

    /// Every space.
    pub fn spaces(&self) -> &[SimSpace] {
        &self.spaces
    }

    /// The space with this key (case-insensitive).
    pub fn space(&self, key: &str) -> Option<&SimSpace> {
        self.spaces.iter().find(|s| s.key.eq_ignore_ascii_case(key))
    }

    /// Ancestors of `id`, root first (empty for roots, blog posts and unknown ids).
    pub fn ancestors(&self, id: &str) -> Vec<&SimItem> {
        let mut out = Vec::new();
        let mut current = self.get(id).and_then(|i| i.parent_id.as_deref());
        while let Some(pid) = current {
            match self.get(pid) {
                Some(parent) if out.len() < self.items.len() => {
                    out.push(parent);
                    current = parent.parent_id.as_deref();
                }
                _ => break,
            }
        }
        out.reverse();
        out
    }

    /// Direct child pages of `id`, in table order.
    pub fn children(&self, id: &str) -> Vec<&SimItem> {
        self.items
            .iter()
            .filter(|i| i.parent_id.as_deref() == Some(id))
            .collect()
    }

    /// Every page below `id` (not `id` itself), in table order.
    pub fn descendants(&self, id: &str) -> Vec<&SimItem> {
        self.items
            .iter()
            .filter(|i| self.ancestors(&i.id).iter().any(|a| a.id == id))
            .collect()
    }

    /// Ids of the KB-space items a caller of `orgs` may see (no org → shared items only).
    pub fn visible_ids_for(&self, orgs: &[&str]) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| i.space_key == KB_SPACE && i.audience.admits(orgs))
            .map(|i| i.id.clone())
            .collect()
    }

    /// Canaries of every item a caller of `orgs` must not see.
    pub fn forbidden_canaries_for(&self, orgs: &[&str]) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| !(i.space_key == KB_SPACE && i.audience.admits(orgs)))
            .filter_map(|i| i.canary.clone())
            .collect()
    }

    /// Canaries of the KB items only `org` may see (for canary probes).
    pub fn canaries_only_for(&self, org: &str) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| i.space_key == KB_SPACE)
            .filter(|i| matches!(&i.audience, Audience::Orgs(orgs) if orgs.len() == 1 && orgs[0] == org))
            .filter_map(|i| i.canary.clone())
            .collect()
    }

    /// Every canary in the corpus.
    pub fn all_canaries(&self) -> Vec<String> {
        self.items.iter().filter_map(|i| i.canary.clone()).collect()
    }

    /// Titles of every item that carries a canary (what a leaky upstream would echo).
    pub fn canary_titles(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter(|i| i.canary.is_some())
            .map(|i| i.title.as_str())
            .collect()
    }
}

fn ancestor_ids(id: u32, parents: &HashMap<u32, Option<u32>>) -> Vec<u32> {
    let mut out = Vec::new();
    let mut current = parents.get(&id).copied().flatten();
    while let Some(p) = current {
        if out.contains(&p) {
            break;
        }
        out.push(p);
        current = parents.get(&p).copied().flatten();
    }
    out
}

/// The simulator's visibility model (DESIGN.md §1, written independently of `policy`).
fn audience_of(spec: &Spec, ancestors: &[u32]) -> Audience {
    if spec.space != KB_SPACE || spec.labels.contains(&INTERNAL_LABEL) {
        return Audience::Nobody;
    }
    let by_label: Vec<String> = spec
        .labels
        .iter()
        .filter_map(|l| l.strip_prefix(LABEL_PREFIX))
        .map(str::to_owned)
        .collect();
    let by_subtree: Option<Vec<String>> = SUBTREES
        .iter()
        .find(|(root, _)| {
            let root: u32 = root.parse().unwrap_or(0);
            spec.id == root || ancestors.contains(&root)
        })
        .map(|(_, orgs)| orgs.iter().map(|o| (*o).to_owned()).collect());
    let allowed = match (by_label.is_empty(), by_subtree) {
        (true, None) => return Audience::Shared,
        (false, None) => by_label,
        (true, Some(sub)) => sub,
        (false, Some(sub)) => by_label.into_iter().filter(|o| sub.contains(o)).collect(),
    };
    if allowed.is_empty() {
        Audience::Nobody
    } else {
        Audience::Orgs(allowed)
    }
}

fn canary_tag(spec: &Spec, audience: &Audience) -> Option<String> {
    match audience {
        Audience::Shared => None,
        Audience::Orgs(orgs) => Some(orgs.join("-")),
        Audience::Nobody if spec.space != KB_SPACE => Some("eng".to_owned()),
        Audience::Nobody if spec.labels.contains(&INTERNAL_LABEL) => Some("internal".to_owned()),
        Audience::Nobody => Some("nobody".to_owned()),
    }
}

fn build_item(
    spec: &Spec,
    audience: Audience,
    canary: Option<String>,
    created: i64,
    last_modified: i64,
    extra_versions: u64,
) -> SimItem {
    let title = match &canary {
        Some(c) => format!("{} {c}", spec.title),
        None => spec.title.to_owned(),
    };
    let lead = match &canary {
        Some(c) => format!("{c}: {}", spec.text),
        None => spec.text.to_owned(),
    };
    let mut labels: Vec<String> = spec.labels.iter().map(|l| (*l).to_owned()).collect();
    if let Some(c) = &canary {
        labels.push(c.to_ascii_lowercase());
    }
    let mut blocks = vec![Block::Para(lead.clone())];
    let mut text = lead;
    for b in spec.blocks {
        match b {
            B::H(h) => {
                blocks.push(Block::Heading((*h).to_owned()));
                text.push('\n');
                text.push_str(h);
            }
            B::P(p) => {
                blocks.push(Block::Para((*p).to_owned()));
                text.push('\n');
                text.push_str(p);
            }
            B::Children => blocks.push(Block::Children),
            B::Link(id) => blocks.push(Block::Link(id.to_string())),
            B::Include(id) => blocks.push(Block::Include(id.to_string())),
            B::ByLabel(label) => blocks.push(Block::ByLabel((*label).to_owned())),
            B::ImageOf(id) => blocks.push(Block::ImageOf(id.to_string())),
        }
    }
    SimItem {
        id: spec.id.to_string(),
        title,
        space_key: spec.space.to_owned(),
        labels,
        parent_id: spec.parent.map(|p| p.to_string()),
        audience,
        canary,
        kind: if spec.blog {
            ContentKind::BlogPost
        } else {
            ContentKind::Page
        },
        text,
        created,
        last_modified,
        version: 1 + extra_versions as u32,
        blocks,
    }
}
