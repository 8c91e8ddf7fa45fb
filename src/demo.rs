//! The embedded demo: the simulator (Confluence + identity provider) and kbgate, wired together
//! on loopback, with tokens for demo customers of different organizations.
//!
//! Used by `kbgate demo` and by the integration tests, which start the same stack on port 0.
//! The demo configuration is ordinary TOML run through the ordinary config pipeline.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{self, App};
use crate::config::Config;
use crate::sim::{self, DemoCustomer, SimHandle, SimOptions};

/// The audience demo tokens are minted for.
pub const AUDIENCE: &str = "kbgate-demo";
/// The environment variable name the demo configuration reads the service token from.
const TOKEN_ENV: &str = "KBGATE_DEMO_SERVICE_TOKEN";
/// The environment variable name the demo configuration reads the webhook secret from.
const WEBHOOK_ENV: &str = "KBGATE_DEMO_WEBHOOK_SECRET";
/// The demo's webhook secret (loopback demo only).
pub const WEBHOOK_SECRET: &str = "demo-webhook-secret-0123456789";
/// The environment variable name the demo configuration reads the session secret from.
const SESSION_ENV: &str = "KBGATE_DEMO_SESSION_SECRET";
/// The demo's session-cookie secret (loopback demo only; public, like the demo keys).
pub const SESSION_SECRET: &str = "demo-session-secret-0123456789abcdef";

/// A running simulator + kbgate pair.
pub struct DemoStack {
    pub sim: SimHandle,
    pub addr: SocketAddr,
    pub config: Config,
    pub app: Arc<App>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("binding {0}: {1}")]
    Bind(String, #[source] std::io::Error),
    #[error("demo configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("starting kbgate: {0}")]
    Init(#[from] app::InitError),
}

/// The demo configuration for a simulator at `sim` and kbgate at `public_url`. A Data Center
/// simulator gets `flavor = "datacenter"` and a bearer personal access token.
pub fn config_toml(sim: &SimHandle, listen: SocketAddr, public_url: &str) -> String {
    let (flavor, auth) = if sim.datacenter() {
        (
            "datacenter",
            format!(r#"{{ kind = "bearer", token_env = "{TOKEN_ENV}" }}"#),
        )
    } else {
        (
            "cloud",
            format!(
                r#"{{ kind = "basic", email = "{}", token_env = "{TOKEN_ENV}" }}"#,
                SimOptions::default().service_email
            ),
        )
    };
    format!(
        r#"# kbgate demo configuration (generated): the simulator is the upstream and the IdP.
[server]
listen = "{listen}"
public_url = "{public_url}"
# The demo answers at 127.0.0.1 and localhost alike.
allowed_hosts = ["localhost:{port}", "127.0.0.1:{port}"]
request_timeout = "10s"

[upstream]
base_url = "{base}"
flavor = "{flavor}"
timeout = "5s"
max_body_bytes = 4194304
auth = {auth}

[auth]
jwks_refresh_min_interval = "1s"

[[auth.issuers]]
issuer = "{issuer}"
audiences = ["{AUDIENCE}"]
jwks_url = "{jwks}"
algorithms = ["RS256"]
leeway = "30s"

[orgs]
claim = "kb_orgs"

[policy]
spaces = ["KB"]
label_prefix = "org-"
internal_label = "kb-internal"
unmarked = "shared"
orgs = ["acme", "globex", "initech"]

[[policy.subtrees]]
root = "200000"
orgs = ["initech"]

[cache]
metadata_ttl = "30s"
webhook_secret_env = "{WEBHOOK_ENV}"

# Browser sign-in against the simulator's identity provider (`login_hint=<demo name>`).
[login]
issuer = "{issuer}"
client_id = "{AUDIENCE}"
session_secret_env = "{SESSION_ENV}"
session_ttl = "8h"
authorization_endpoint = "{issuer}/authorize"
token_endpoint = "{issuer}/token"
end_session_endpoint = "{issuer}/logout"
"#,
        base = sim.base_url(),
        issuer = sim.issuer(),
        jwks = sim.jwks_url(),
        port = listen.port(),
    )
}

impl DemoStack {
    /// Starts the simulator on `sim_listen` and kbgate on `listen` (port 0 picks free ports).
    pub async fn start(listen: SocketAddr, sim_listen: SocketAddr) -> Result<DemoStack, DemoError> {
        Self::start_with(listen, sim_listen, SimOptions::default()).await
    }

    /// Like [`DemoStack::start`] with a simulator configured by `sim_opts` (e.g. Data Center).
    pub async fn start_with(
        listen: SocketAddr,
        sim_listen: SocketAddr,
        sim_opts: SimOptions,
    ) -> Result<DemoStack, DemoError> {
        Self::start_edited(listen, sim_listen, sim_opts, |_, toml| toml).await
    }

    /// kbgate's base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A fresh token for a demo customer, valid for `ttl`.
    pub fn token(&self, customer: &DemoCustomer, ttl: Duration) -> String {
        self.sim.mint_token(customer, AUDIENCE, ttl)
    }

    /// Stops kbgate (draining in-flight requests) and the simulator.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        self.sim.shutdown();
    }
}

/// The environment a separate `kbgate serve` process needs for a [`config_toml`] configuration
/// (the simulator's service token and the demo secrets).
pub fn process_env(service_token: &str) -> Vec<(&'static str, String)> {
    vec![
        (TOKEN_ENV, service_token.to_owned()),
        (WEBHOOK_ENV, WEBHOOK_SECRET.to_owned()),
        (SESSION_ENV, SESSION_SECRET.to_owned()),
    ]
}

/// The environment variable [`jsm_orgs_toml`] reads the JSM agent's email from.
const JSM_EMAIL_ENV: &str = "KBGATE_DEMO_JSM_EMAIL";
/// The environment variable [`jsm_orgs_toml`] reads the JSM agent's API token from.
const JSM_TOKEN_ENV: &str = "KBGATE_DEMO_JSM_TOKEN";

/// An `[orgs.jsm]` section for the simulator's JSM customer organizations: the simulator's
/// agent account (through the demo environment, see [`DemoStack::start_edited`]), "Acme Corp"
/// mapped to `acme` (Globex and Initech map by their lowercased names), and the given
/// `refresh_interval` and `max_staleness` (e.g. `"500ms"`, `"3s"`).
pub fn jsm_orgs_toml(refresh_interval: &str, max_staleness: &str) -> String {
    format!(
        "[orgs.jsm]\nemail_env = \"{JSM_EMAIL_ENV}\"\ntoken_env = \"{JSM_TOKEN_ENV}\"\n\
         refresh_interval = \"{refresh_interval}\"\nmax_staleness = \"{max_staleness}\"\n\
         timeout = \"2s\"\n\n[orgs.jsm.org_map]\n{}\n",
        sim::jsm_orgs::ORG_MAP_TOML
    )
}

impl DemoStack {
    /// Like [`DemoStack::start_with`], but `edit` rewrites the generated configuration before
    /// it is loaded; it also sees the running simulator (e.g. to take JSM down before kbgate
    /// starts). Besides the demo's own secrets, the environment resolves the variables of
    /// [`jsm_orgs_toml`] to the simulator's JSM agent.
    pub async fn start_edited(
        listen: SocketAddr,
        sim_listen: SocketAddr,
        sim_opts: SimOptions,
        edit: impl FnOnce(&SimHandle, String) -> String,
    ) -> Result<DemoStack, DemoError> {
        let sim_listener = TcpListener::bind(sim_listen)
            .await
            .map_err(|e| DemoError::Bind(sim_listen.to_string(), e))?;
        let token = sim_opts.service_token.clone();
        let sim = sim::start(sim_listener, sim_opts)
            .await
            .map_err(|e| DemoError::Bind(sim_listen.to_string(), e))?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| DemoError::Bind(listen.to_string(), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| DemoError::Bind(listen.to_string(), e))?;
        let toml = edit(&sim, config_toml(&sim, addr, &format!("http://{addr}")));
        let env = move |name: &str| match name {
            TOKEN_ENV => Some(token.clone()),
            WEBHOOK_ENV => Some(WEBHOOK_SECRET.to_owned()),
            SESSION_ENV => Some(SESSION_SECRET.to_owned()),
            JSM_EMAIL_ENV => Some(sim::jsm_orgs::AGENT_EMAIL.to_owned()),
            JSM_TOKEN_ENV => Some(sim::jsm_orgs::AGENT_TOKEN.to_owned()),
            _ => None,
        };
        let config = Config::from_toml(&toml, Path::new("demo.toml"), &env)?;
        let app = Arc::new(App::build(&config).await?);
        let options = app::server_options(&config)?;
        let (stop, mut stopped) = watch::channel(false);
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let server = tokio::spawn(app::serve(app.clone(), listener, options, shutdown));
        Ok(DemoStack {
            sim,
            addr,
            config,
            app,
            stop,
            server,
        })
    }
}

/// The demo customers: one per organization, one in two organizations, one in none.
pub fn customers() -> Vec<DemoCustomer> {
    sim::demo_customers()
}
