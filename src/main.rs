//! The `kbgate` command: serve, check-config, demo, explain, loadtest, sim.

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
        /// Where the admin endpoints listen (/healthz, /readyz, /metrics); skipped when taken.
        #[arg(long, default_value = "127.0.0.1:9090")]
        admin_listen: SocketAddr,
        /// Where the simulator listens (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        sim_listen: SocketAddr,
    },
    /// Explain why a content item is visible to a customer of some organizations, or not.
    Explain {
        /// Configuration file (TOML).
        #[arg(long, short, env = "KBGATE_CONFIG")]
        config: PathBuf,
        /// An organization of the customer (repeat for several; none: a customer with no organization).
        #[arg(long = "org")]
        orgs: Vec<String>,
        /// The content id, e.g. 123456.
        id: String,
    },
    /// Load-test a running kbgate (or the embedded demo): throughput, latency, and a leak
    /// oracle on a sample of answers. Exit code 0 ok, 3 leak, 4 errors, 2 bad usage.
    Loadtest(kbgate::loadtest::Args),
    /// Run only the simulator (Confluence Cloud + identity provider), for your own experiments.
    Sim {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// Answer as Confluence Data Center: REST under /rest/api, bearer token auth.
        #[arg(long)]
        datacenter: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::CheckConfig { file } = &cli.command {
        return check_config(file);
    }
    let runtime = match build_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kbgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Loadtest(args) = cli.command {
        return runtime.block_on(loadtest(args));
    }
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kbgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The tokio runtime: one thread when the process may use one CPU (its affinity mask or cgroup
/// quota, e.g. a sidecar limited to one core), else one worker per CPU. On one CPU the
/// work-stealing scheduler only adds cost: measured with `kbgate loadtest --rate 8000` on the
/// comparison's pinned core, the single-threaded runtime used about 8% less CPU per request and
/// kept p99 near 2.6 ms where the one-worker multi-threaded runtime's moved between 3 and 30 ms.
/// `TOKIO_WORKER_THREADS` set above 1 asks for the multi-threaded runtime anyway.
fn build_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let workers_asked = std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|n| n > 1);
    let mut builder = if one_cpu && !workers_asked {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
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
        Command::Demo {
            listen,
            sim_listen,
            admin_listen,
        } => run_demo(listen, sim_listen, admin_listen).await,
        Command::Sim { listen, datacenter } => run_sim(listen, datacenter).await,
        Command::Explain { config, orgs, id } => {
            let config = Config::load(&config)?;
            print!("{}", kbgate::explain::explain(&config, &orgs, &id).await?);
            Ok(())
        }
        Command::CheckConfig { .. } | Command::Loadtest(_) => Ok(()),
    }
}

/// Runs `kbgate loadtest`: the report on stdout, the outcome as the exit code; Ctrl-C ends the
/// run early with the figures so far.
async fn loadtest(args: kbgate::loadtest::Args) -> ExitCode {
    let json = args.json;
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match kbgate::loadtest::run_until(args, stop).await {
        Ok(report) => {
            if json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_text());
            }
            ExitCode::from(report.exit_code())
        }
        Err(e) => {
            let code = e.exit_code();
            eprintln!("kbgate loadtest: {:#}", anyhow::Error::new(e));
            ExitCode::from(code)
        }
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
    let live = kbgate::reload::Live::from_file(app, &config, &path);
    tokio::spawn(live.clone().on_sighup());
    if let Some(interval) = config.server.reload_watch_interval {
        tokio::spawn(live.clone().watch(interval));
    }
    tokio::spawn(kbgate::probe::run(live.clone()));
    if let Some(addr) = config.server.admin_listen {
        let admin_listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the admin listener {addr}"))?;
        let admin = kbgate::admin::Admin::new(live.clone());
        tokio::spawn(kbgate::admin::serve(
            admin,
            admin_listener,
            server::shutdown_signal(),
        ));
        tracing::info!(addr = %addr, "admin endpoints listening (/healthz, /readyz, /metrics)");
    }
    let runtime = match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::CurrentThread => "one thread (one CPU available)",
        _ => "one worker per CPU",
    };
    tracing::info!(addr = %config.server.listen, public_url = %config.server.public_url, runtime, "kbgate listening");
    app::serve_live(live, listener, options, server::shutdown_signal()).await?;
    tracing::info!("kbgate stopped");
    Ok(())
}

async fn run_demo(
    listen: SocketAddr,
    sim_listen: SocketAddr,
    admin_listen: SocketAddr,
) -> anyhow::Result<()> {
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
    println!("\n  Open the knowledge base site: {url}/\n");
    match tokio::net::TcpListener::bind(admin_listen).await {
        Ok(listener) => {
            let admin = kbgate::admin::Admin::new(kbgate::reload::Live::fixed(stack.app.clone()));
            tokio::spawn(kbgate::admin::serve(
                admin,
                listener,
                server::shutdown_signal(),
            ));
            println!("  Metrics and readiness: http://{admin_listen}/metrics, http://{admin_listen}/readyz\n");
        }
        Err(e) => println!("  (admin endpoints not started: {admin_listen}: {e})\n"),
    }
    println!("Every customer token below is valid for 12 hours.\n");
    let ttl = Duration::from_secs(12 * 3600);
    let mut seen = Vec::new();
    for customer in demo::customers() {
        let token = stack.token(&customer, ttl);
        let titles = visible_titles(&url, &token).await;
        seen.push((customer, token, titles));
    }
    // What the customer with no organization sees is what everybody shares.
    let shared: Vec<String> = seen
        .iter()
        .find(|(c, _, _)| c.orgs.is_empty())
        .and_then(|(_, _, t)| t.as_ref().ok().cloned())
        .unwrap_or_default();
    for (customer, token, titles) in &seen {
        let orgs = if customer.orgs.is_empty() {
            "no organization".to_owned()
        } else {
            customer.orgs.join(" + ")
        };
        let summary = match titles {
            Ok(titles) => {
                let own: Vec<&String> = titles.iter().filter(|t| !shared.contains(t)).collect();
                let examples: Vec<String> =
                    own.iter().take(2).map(|t| format!("\"{t}\"")).collect();
                if own.is_empty() {
                    format!("{} articles: the shared ones only", titles.len())
                } else {
                    format!(
                        "{} articles: the {} shared + {} for {orgs}, e.g. {}",
                        titles.len(),
                        titles.len() - own.len(),
                        own.len(),
                        examples.join(", ")
                    )
                }
            }
            Err(why) => format!("nothing: {why}"),
        };
        println!(
            "── {} <{}> ({orgs}) sees {summary}",
            customer.name, customer.email
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
    println!(
        "\nThe knowledge base site, in a browser (sign in on the demo page, as any customer):"
    );
    println!("  {url}/");
    println!("  (sign in as alice to see Acme's knowledge base, as bob for Globex's; \"Sign out\" to switch)");
    println!("\nPress Ctrl-C to stop.");
    server::shutdown_signal().await;
    stack.stop().await;
    Ok(())
}

/// The titles a customer sees for `space = KB`, fetched through kbgate itself.
async fn visible_titles(url: &str, token: &str) -> Result<Vec<String>, String> {
    let client = kbgate::http_client::build(&Default::default()).map_err(|e| e.to_string())?;
    let uri =
        format!("{url}/wiki/rest/api/search?cql=space%3DKB+ORDER+BY+title&limit=100&excerpt=none")
            .parse()
            .map_err(|_| "bad URL".to_owned())?;
    let mut headers = http::HeaderMap::new();
    let value =
        http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
    headers.insert(http::header::AUTHORIZATION, value);
    let fetched =
        kbgate::http_client::fetch(&client, uri, headers, 8 << 20, Duration::from_secs(10))
            .await
            .map_err(|e| e.to_string())?;
    if !fetched.status.is_success() {
        return Err(format!("status {}", fetched.status));
    }
    #[derive(serde::Deserialize)]
    struct Page {
        results: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        title: String,
    }
    let page: Page = serde_json::from_slice(&fetched.body).map_err(|e| e.to_string())?;
    Ok(page
        .results
        .into_iter()
        .map(|i| i.title.replace("@@@hl@@@", "").replace("@@@endhl@@@", ""))
        .collect())
}

async fn run_sim(listen: SocketAddr, datacenter: bool) -> anyhow::Result<()> {
    telemetry::init(&kbgate::config::LogSettings {
        format: kbgate::config::LogFormat::Pretty,
        level: "info".into(),
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let opts = kbgate::sim::SimOptions {
        datacenter,
        ..Default::default()
    };
    if datacenter {
        println!(
            "service account: personal access token {}",
            opts.service_token
        );
    } else {
        println!(
            "service account: {} / token {}",
            opts.service_email, opts.service_token
        );
    }
    let sim = kbgate::sim::start(listener, opts).await?;
    println!(
        "simulated Confluence {} at {}{}, identity provider {}",
        if datacenter { "Data Center" } else { "Cloud" },
        sim.base_url(),
        if datacenter { "" } else { "/wiki" },
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
