//! The simulator's content table: every page and blog post of the simulated Confluence site, with
//! fixed ids, parents, labels and text. [`super::corpus`] turns it into the seeded corpus (adds
//! canaries, dates and audiences).
//!
//! Guarantees: ids are fixed here and never depend on the seed; parents appear before children.
//! Deliberately not: audiences — they are derived by the simulator's own model in
//! [`super::corpus`], so this table cannot quietly disagree with it.

/// One body block in the table (turned into [`super::corpus::Block`]).
pub(super) enum B {
    /// A section heading.
    H(&'static str),
    /// A paragraph of text (indexed for search).
    P(&'static str),
    /// The `children` macro (renders a listing of child titles in `body.view`).
    Children,
    /// An `<ac:link>` to another item, named by title in storage format.
    Link(u32),
    /// The `include` macro naming another item by title.
    Include(u32),
    /// The `contentbylabel` macro listing the items with a label.
    ByLabel(&'static str),
    /// An image of another item's first attachment (`ri:attachment` inside `ri:page`).
    ImageOf(u32),
}

/// One content item in the table.
pub(super) struct Spec {
    pub id: u32,
    pub parent: Option<u32>,
    pub space: &'static str,
    pub blog: bool,
    pub title: &'static str,
    pub labels: &'static [&'static str],
    pub text: &'static str,
    pub blocks: &'static [B],
}

const fn kb(
    id: u32,
    parent: u32,
    title: &'static str,
    labels: &'static [&'static str],
    text: &'static str,
) -> Spec {
    Spec {
        id,
        parent: Some(parent),
        space: "KB",
        blog: false,
        title,
        labels,
        text,
        blocks: &[],
    }
}

const fn blog(
    id: u32,
    space: &'static str,
    title: &'static str,
    labels: &'static [&'static str],
    text: &'static str,
) -> Spec {
    Spec {
        id,
        parent: None,
        space,
        blog: true,
        title,
        labels,
        text,
        blocks: &[],
    }
}

const fn eng(id: u32, parent: u32, title: &'static str, labels: &'static [&'static str]) -> Spec {
    Spec {
        id,
        parent: Some(parent),
        space: "ENG",
        blog: false,
        title,
        labels,
        text: "Engineering notes on the VPN, invoice and password services; not for customers.",
        blocks: &[],
    }
}

impl Spec {
    const fn with(self, blocks: &'static [B]) -> Self {
        Spec { blocks, ..self }
    }
}

/// Every content item, parents first. See the fixed-id table in the module doc of `sim`.
/// Labels of [`super::corpus::MANY_LABELS_ID`]'s page: 60 labels, the organization label 55th, so that any
/// reader that stops at the first 50 (Confluence v2's `include-labels` cap) misses it.
const SIXTY_LABELS: &[&str] = &[
    "topic-01", "topic-02", "topic-03", "topic-04", "topic-05", "topic-06", "topic-07", "topic-08",
    "topic-09", "topic-10", "topic-11", "topic-12", "topic-13", "topic-14", "topic-15", "topic-16",
    "topic-17", "topic-18", "topic-19", "topic-20", "topic-21", "topic-22", "topic-23", "topic-24",
    "topic-25", "topic-26", "topic-27", "topic-28", "topic-29", "topic-30", "topic-31", "topic-32",
    "topic-33", "topic-34", "topic-35", "topic-36", "topic-37", "topic-38", "topic-39", "topic-40",
    "topic-41", "topic-42", "topic-43", "topic-44", "topic-45", "topic-46", "topic-47", "topic-48",
    "topic-49", "topic-50", "topic-51", "topic-52", "topic-53", "topic-54", "org-acme", "topic-56",
    "topic-57", "topic-58", "topic-59", "topic-60",
];

pub(super) const SPECS: &[Spec] = &[
    Spec {
        id: 100001,
        parent: None,
        space: "KB",
        blog: false,
        title: "Customer Knowledge Base",
        labels: &[],
        text: "Welcome to the customer knowledge base: VPN access, invoices and passwords.",
        blocks: &[
            B::H("Getting started"),
            B::P("New here? Read the getting started guide and the password reset article."),
            B::H("Billing"),
            B::P("Questions about an invoice? The billing section explains every line."),
            B::H("All articles"),
            B::Children,
        ],
    },
    kb(100002, 100001, "Getting started", &["getting-started"],
        "Set your password, connect to the VPN and download your first invoice.")
        .with(&[B::Children]),
    kb(100003, 100002, "Resetting your password", &["password", "how-to"],
        "Forgot your password? Use the reset link on the sign-in page. Passwords expire every 90 days."),
    kb(100004, 100002, "Connecting to the VPN", &["vpn", "how-to"],
        "Install the VPN client, sign in with your password and choose the nearest gateway."),
    kb(100005, 100002, "Acme VPN gateway addresses", &["org-acme", "vpn"],
        "Acme staff connect to the VPN gateways vpn1.acme.example and vpn2.acme.example."),
    kb(100006, 100002, "Globex password policy", &["org-globex", "password"],
        "Globex passwords need 16 characters and rotate every 60 days."),
    kb(100007, 100001, "Billing", &["billing"],
        "Everything about invoices, payments and refunds.")
        .with(&[B::Children]),
    kb(100008, 100007, "Understanding your invoice", &["invoice"],
        "Each invoice lists licences, support hours and taxes. Invoices are issued monthly."),
    kb(100009, 100007, "Acme invoice schedule", &["org-acme", "invoice"],
        "Acme receives one consolidated invoice per quarter, payable within 45 days."),
    kb(100010, 100007, "Globex invoice disputes", &["org-globex", "invoice"],
        "Globex disputes an invoice through its account manager within 30 days."),
    kb(100011, 100007, "Joint Acme and Globex invoice reconciliation",
        &["org-acme", "org-globex", "invoice"],
        "How the Acme and Globex joint venture reconciles its shared invoice."),
    kb(100012, 100001, "Acme onboarding", &["org-acme"],
        "Onboarding handbook for Acme employees: VPN, printers and password rules.")
        .with(&[B::Children]),
    kb(100013, 100012, "Printer setup guide", &[],
        "Add a network printer from the settings panel; no password is needed."),
    kb(100014, 100013, "Printer driver downloads", &["printer"],
        "Download printer drivers for Windows, macOS and Linux."),
    kb(100015, 100012, "Acme VPN certificates", &["org-acme", "vpn"],
        "Acme VPN certificates are issued by the Acme certificate authority."),
    kb(100016, 100015, "Acme VPN certificate rotation", &["org-acme"],
        "Rotate the Acme VPN certificate every year before it expires."),
    kb(100017, 100001, "Security", &["security"],
        "Security practices for every customer.")
        .with(&[B::Children]),
    kb(100018, 100017, "Two-factor authentication", &["security", "password"],
        "Turn on two-factor authentication in addition to your password."),
    kb(100019, 100017, "Incident response runbook", &["kb-internal"],
        "Internal runbook: how support handles a VPN or password incident."),
    kb(100020, 100017, "Globex security contacts", &["org-globex"],
        "Security contacts at Globex for VPN problems and invoice fraud reports."),
    kb(100021, 100020, "Globex on-call roster", &["org-globex", "kb-internal"],
        "On-call roster for Globex escalations."),
    kb(100022, 100020, "Globex VPN split tunnelling", &["org-globex", "vpn"],
        "Globex allows split tunnelling for the VPN on managed laptops."),
    kb(100023, 100022, "VPN troubleshooting checklist", &["vpn"],
        "If the VPN does not connect: check the clock, your password and the gateway address."),
    kb(100024, 100001, "Frequently asked questions", &["faq"],
        "Answers about VPN access, invoice payment and password resets."),
    kb(100025, 100001, "Related articles", &[],
        "Articles related to VPN access.")
        .with(&[
            B::Link(100004),
            B::Link(100005),
            B::Include(100005),
            B::ByLabel("org-acme"),
            B::ImageOf(100005),
        ]),
    kb(100026, 100001, "Acme SSO configuration", &["org-acme", "sso"],
        "Acme signs in through single sign-on; passwords are managed by Acme IT."),
    kb(100027, 100001, "Globex data export", &["org-globex"],
        "Globex can export its data as CSV every night."),
    kb(100028, 100001, "Initech billing portal", &["org-initech", "invoice"],
        "Initech pays each invoice through its own billing portal."),
    kb(100029, 100001, "Release notes", &["release-notes"],
        "What changed this month: faster VPN reconnects and clearer invoice PDFs."),
    kb(100030, 100001, "Using \"quotes\" & <brackets> in passwords", &["password"],
        "Passwords may contain \"quotes\", ampersands (&) and <angle> brackets."),
    kb(100031, 100001, "Café Wi-Fi and the VPN – a checklist", &["vpn"],
        "Use the VPN on public Wi-Fi in a café, hotel or airport."),
    kb(100032, 100001, "Mobile app VPN profile", &["vpn", "mobile"],
        "Install the VPN profile on your phone from the mobile app settings."),
    kb(100033, 100001, "Paying an invoice by card", &["invoice"],
        "Pay any open invoice by credit card from the billing page."),
    kb(100034, 100001, "Changing your email address", &[],
        "Change the email address of your account; your password stays the same."),
    kb(100035, 100001, "Password manager recommendations", &["password"],
        "We recommend a password manager that supports passkeys."),
    kb(100036, 100001, "Acme release calendar", SIXTY_LABELS,
        "Release windows and freeze dates for Acme deployments."),
    blog(100040, "KB", "Scheduled VPN maintenance", &["maintenance", "vpn"],
        "The VPN gateways will be down for maintenance on Saturday night."),
    blog(100041, "KB", "Acme invoice changes for next quarter", &["org-acme", "invoice"],
        "From next quarter Acme receives its invoice by email only."),
    blog(100042, "KB", "Globex password rotation reminder", &["org-globex", "password"],
        "Reminder: every Globex password must be rotated this month."),
    kb(200000, 100001, "Initech customer portal", &[],
        "Start page for Initech customers: VPN, invoices and kiosk passwords.")
        .with(&[B::Children]),
    kb(200001, 200000, "Initech VPN access", &[],
        "Initech users connect to the VPN with a hardware token and a password."),
    kb(200002, 200000, "Initech invoice contacts", &[],
        "Send Initech invoice questions to the Initech billing desk."),
    kb(200003, 200002, "Initech kiosk password reset", &[],
        "Reset a kiosk password from the Initech admin console."),
    kb(200004, 200000, "Initech and Acme integration notes", &["org-acme"],
        "Notes on the Initech and Acme integration; the labels and the subtree disagree."),
    kb(200005, 200000, "Initech escalation guide", &["org-initech"],
        "How Initech escalates a VPN or invoice problem."),
    Spec {
        id: 300001,
        parent: None,
        space: "ENG",
        blog: false,
        title: "Engineering home",
        labels: &[],
        text: "Engineering space: VPN, invoice and password service internals.",
        blocks: &[B::Children],
    },
    eng(300002, 300001, "VPN backend architecture", &[]),
    eng(300003, 300001, "Invoice service database schema", &[]),
    eng(300004, 300001, "Password hashing internals", &["org-acme"]),
    blog(300005, "ENG", "VPN outage postmortem", &[],
        "Postmortem of last week's VPN outage, with customer names."),
];
