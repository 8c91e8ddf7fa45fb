//! Chromium under WebDriver: a `chromedriver` process on a free loopback port, a fresh profile
//! and download directory, and a fantoccini session with the demo's capabilities.
//!
//! Guarantees: chromedriver runs in its own process group, and that group (chromedriver and the
//! Chromium it started) is killed when the [`Driver`] is dropped, however the test ends; the
//! temporary directories are removed then too; waiting for chromedriver is bounded.
//! Deliberately not: finding a browser anywhere but `$KBGATE_CHROMIUM` or `/usr/bin/chromium`
//! (and `$KBGATE_CHROMEDRIVER` or `chromedriver` on `PATH`); installing them is the script's job.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long chromedriver may take to answer its status endpoint.
const STARTUP: Duration = Duration::from_secs(20);

/// The browser binary the session starts.
pub fn chromium_binary() -> String {
    std::env::var("KBGATE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

fn chromedriver_binary() -> String {
    std::env::var("KBGATE_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned())
}

/// A directory under the test target dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory named after `what`.
    pub fn new(what: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "browser-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running chromedriver and the browser session it drives.
pub struct Driver {
    child: Child,
    /// The WebDriver session.
    pub client: Client,
    /// Where Chromium saves downloads.
    pub downloads: TempDir,
    _profile: TempDir,
}

/// A free loopback port (bound and released; chromedriver takes it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Whether `GET /status` on `port` answers 200.
async fn answers(port: u16) -> bool {
    let probe = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        s.write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        // chromedriver keeps the connection open: the status line is enough.
        let mut buf = [0u8; 12];
        s.read_exact(&mut buf).await.ok()?;
        Some(&buf == b"HTTP/1.1 200")
    };
    tokio::time::timeout(Duration::from_secs(2), probe)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// The capabilities of the test browser: headless Chromium, a fresh profile, downloads saved
/// without asking into `downloads`.
fn capabilities(profile: &Path, downloads: &Path) -> fantoccini::wd::Capabilities {
    let args = [
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--window-size=1280,900".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let caps = serde_json::json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": { "pageLoad": 20_000, "script": 10_000, "implicit": 0 },
        "goog:chromeOptions": {
            "binary": chromium_binary(),
            "args": args,
            "prefs": {
                "download": {
                    "default_directory": downloads.display().to_string(),
                    "prompt_for_download": false,
                    "directory_upgrade": true
                },
                "safebrowsing": { "enabled": false }
            }
        }
    });
    match caps {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

impl Driver {
    /// Starts chromedriver and a browser session (panics with the reason when it cannot).
    pub async fn start() -> Driver {
        let port = free_port();
        let profile = TempDir::new("profile");
        let downloads = TempDir::new("downloads");
        let log = std::fs::File::create(profile.0.join("chromedriver.log"))
            .expect("chromedriver log file");
        let child = Command::new(chromedriver_binary())
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start chromedriver ({e}); run scripts/browser-tests.sh")
            });
        remember_group(child.id());
        let mut guard = ChildGuard(Some(child));
        let started = Instant::now();
        while !answers(port).await {
            assert!(
                started.elapsed() < STARTUP,
                "chromedriver did not answer on port {port} within {STARTUP:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities(&profile.0, &downloads.0))
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                let log =
                    std::fs::read_to_string(profile.0.join("chromedriver.log")).unwrap_or_default();
                panic!("no browser session: {e}\nchromedriver log:\n{log}")
            });
        Driver {
            child: guard.0.take().expect("the child is still guarded"),
            client,
            downloads,
            _profile: profile,
        }
    }

    /// Ends the browser session (Chromium exits), then chromedriver.
    pub async fn close(self) {
        let client = self.client.clone();
        let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        drop(self);
    }
}

/// Appends chromedriver's process group to `target/tmp/browser-driver-groups.txt`, so the
/// script can end it if the whole run is killed before the `Drop`s run.
fn remember_group(pid: u32) {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-driver-groups.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = std::io::Write::write_all(&mut f, format!("{pid}\n").as_bytes());
    }
}

/// Kills a child's whole process group (chromedriver and its Chromium) and reaps the child.
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Kills chromedriver if the session never started.
struct ChildGuard(Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            kill_group(child);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}
