//! The `kbgate` command: serve, check-config, demo, sim.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use kbgate::config::Config;
use kbgate::demo::{self, DemoStack};
use kbgate::{app, server, telemetry};

#[derive(Parser)]
#[command(
    name = "kbgate",
    version,
    about = "Per-customer gate in front of a Confluence knowledge base"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve customers with a configuration file.
    Serve {
        /// Configuration file (TOML).
        #[arg(long, short, env = "KBGATE_CONFIG")]
        config: PathBuf,
    },
    /// Validate a configuration file: exit 0 when valid, 2 with every problem listed otherwise.
    CheckConfig {
        /// Configuration file (TOML).
        file: PathBuf,
    },
    /// Run kbgate on its embedded demo: simulated Confluence and identity provider on loopback.
    Demo {
        /// Where kbgate listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the simulator listens (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        sim_listen: SocketAddr,
    },
    /// Run only the simulator (Confluence Cloud + identity provider), for your own experiments.
    Sim {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::CheckConfig { file } = &cli.command {
        return check_config(file);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kbgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kbgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn check_config(file: &std::path::Path) -> ExitCode {
    match Config::load(file) {
        Ok(c) => {
            println!(
                "{}: valid ({} issuer(s), KB spaces {:?}, {} known organization(s))",
                file.display(),
                c.auth.issuers.len(),
                c.policy
                    .spaces
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>(),
                c.policy.known_orgs.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { config } => serve(config).await,
        Command::Demo { listen, sim_listen } => run_demo(listen, sim_listen).await,
        Command::Sim { listen } => run_sim(listen).await,
        Command::CheckConfig { .. } => Ok(()),
    }
}

async fn serve(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    telemetry::init(&config.log);
    let app = Arc::new(app::App::build(&config).await?);
    let options = app::server_options(&config)?;
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("binding {}", config.server.listen))?;
    if let Some(admin) = config.server.admin_listen {
        let admin_listener = tokio::net::TcpListener::bind(admin)
            .await
            .with_context(|| format!("binding {admin}"))?;
        tokio::spawn(app::serve_admin(admin_listener, server::shutdown_signal()));
        tracing::info!(addr = %admin, "admin endpoints listening");
    }
    tracing::info!(addr = %config.server.listen, public_url = %config.server.public_url, "kbgate listening");
    app::serve(app, listener, options, server::shutdown_signal()).await?;
    tracing::info!("kbgate stopped");
    Ok(())
}

async fn run_demo(listen: SocketAddr, sim_listen: SocketAddr) -> anyhow::Result<()> {
    telemetry::init(&kbgate::config::LogSettings {
        format: kbgate::config::LogFormat::Pretty,
        level: "warn".into(),
    });
    let stack = DemoStack::start(listen, sim_listen).await?;
    let url = stack.url();
    println!(
        "kbgate demo: kbgate at {url}, simulated Confluence + identity provider at {}",
        stack.sim.base_url()
    );
    println!("Every customer token below is valid for 12 hours.\n");
    let ttl = Duration::from_secs(12 * 3600);
    for customer in demo::customers() {
        let orgs = if customer.orgs.is_empty() {
            "no organization".to_owned()
        } else {
            customer.orgs.join(" + ")
        };
        let token = stack.token(&customer, ttl);
        let visible = search_titles(&url, &token).await;
        println!(
            "── {} <{}> ({orgs}) sees {}",
            customer.name,
            customer.email,
            visible.describe()
        );
        println!(
            "   export TOKEN_{}='{}'",
            customer.name.to_uppercase(),
            token
        );
    }
    let alice = demo::customers()
        .into_iter()
        .next()
        .map(|c| c.name.to_uppercase())
        .unwrap_or_default();
    println!("\nTry, for example:");
    println!("  curl -s -H \"Authorization: Bearer $TOKEN_{alice}\" '{url}/wiki/rest/api/search?cql=text~vpn' | python3 -m json.tool");
    println!("  curl -s -H \"Authorization: Bearer $TOKEN_{alice}\" '{url}/wiki/rest/api/content/100001?expand=body.storage,ancestors'");
    println!("  curl -si '{url}/wiki/rest/api/search?cql=type=page'            # no token: 401");
    println!("\nPress Ctrl-C to stop.");
    server::shutdown_signal().await;
    stack.stop().await;
    Ok(())
}

/// What a customer sees for `type = page`, fetched through kbgate itself.
enum Visible {
    Titles(usize, Vec<String>),
    Failed(String),
}

impl Visible {
    fn describe(&self) -> String {
        match self {
            Visible::Titles(total, titles) => {
                format!("{total} article(s), e.g. {}", titles.join(" | "))
            }
            Visible::Failed(why) => format!("nothing: {why}"),
        }
    }
}

async fn search_titles(url: &str, token: &str) -> Visible {
    let client = match kbgate::http_client::build(&Default::default()) {
        Ok(c) => c,
        Err(e) => return Visible::Failed(e.to_string()),
    };
    let Ok(uri) =
        format!("{url}/wiki/rest/api/search?cql=type%3Dpage&limit=100&excerpt=none").parse()
    else {
        return Visible::Failed("bad URL".into());
    };
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(http::header::AUTHORIZATION, v);
    }
    let fetched =
        match kbgate::http_client::fetch(&client, uri, headers, 8 << 20, Duration::from_secs(10))
            .await
        {
            Ok(f) if f.status.is_success() => f,
            Ok(f) => return Visible::Failed(format!("status {}", f.status)),
            Err(e) => return Visible::Failed(e.to_string()),
        };
    #[derive(serde::Deserialize)]
    struct Page {
        results: Vec<Item>,
        #[serde(rename = "totalSize")]
        total: Option<usize>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        title: String,
    }
    match serde_json::from_slice::<Page>(&fetched.body) {
        Ok(p) => Visible::Titles(
            p.total.unwrap_or(p.results.len()),
            p.results.into_iter().take(3).map(|i| i.title).collect(),
        ),
        Err(e) => Visible::Failed(e.to_string()),
    }
}

async fn run_sim(listen: SocketAddr) -> anyhow::Result<()> {
    telemetry::init(&kbgate::config::LogSettings {
        format: kbgate::config::LogFormat::Pretty,
        level: "info".into(),
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let opts = kbgate::sim::SimOptions::default();
    println!(
        "service account: {} / token {}",
        opts.service_email, opts.service_token
    );
    let sim = kbgate::sim::start(listener, opts).await?;
    println!(
        "simulated Confluence at {}/wiki, identity provider {}",
        sim.base_url(),
        sim.issuer()
    );
    for c in demo::customers() {
        println!(
            "token for {} ({:?}): {}",
            c.name,
            c.orgs,
            sim.mint_token(&c, demo::AUDIENCE, Duration::from_secs(12 * 3600))
        );
    }
    server::shutdown_signal().await;
    sim.shutdown();
    Ok(())
}
