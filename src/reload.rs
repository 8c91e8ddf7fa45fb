//! Configuration reload: SIGHUP and a file watcher build a new [`App`] from the file and swap it
//! in whole.
//!
//! Each request takes the current `App` when it starts ([`Live::app`]) and keeps it to the end,
//! so in-flight requests finish on the configuration they started with. A new configuration
//! that does not load (unreadable, invalid, or its key sets cannot be fetched) is rejected: the
//! error is logged, `kbgate_config_reloads_total{outcome="rejected"}` counts it, and the running
//! `App` stays. Caches start empty in the new `App`.
//!
//! Listener addresses, TLS files, timeouts, connection limits and log settings are read once at
//! start: a reload that changes them logs which ones need a restart and applies the rest.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::app::{App, InitError};
use crate::config::{Config, ConfigError, LogSettings, ServerSettings};
use crate::metrics::Metrics;

/// Why a reload was rejected (the running configuration stays).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the new configuration could not start: {0}")]
    Init(#[from] InitError),
}

/// The running application, replaced whole by a reload.
pub struct Live {
    current: ArcSwap<App>,
    metrics: Arc<Metrics>,
    path: Option<PathBuf>,
    /// The server and log settings kbgate started with (changes need a restart).
    started_with: Option<(ServerSettings, LogSettings)>,
    /// The file's bytes at the last reload attempt (the watcher reloads when they change).
    last_seen: Mutex<Option<Vec<u8>>>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
}

impl Live {
    /// A fixed application (no file to reload from).
    pub fn fixed(app: Arc<App>) -> Arc<Self> {
        Self::new(app, None, None)
    }

    /// An application built from `config`, reloadable from the file at `path`.
    pub fn from_file(app: Arc<App>, config: &Config, path: &Path) -> Arc<Self> {
        let started_with = (config.server.clone(), config.log.clone());
        Self::new(app, Some(path.to_owned()), Some(started_with))
    }

    fn new(
        app: Arc<App>,
        path: Option<PathBuf>,
        started_with: Option<(ServerSettings, LogSettings)>,
    ) -> Arc<Self> {
        Arc::new(Self {
            metrics: app.metrics.clone(),
            current: ArcSwap::new(app),
            last_seen: Mutex::new(path.as_deref().and_then(|p| std::fs::read(p).ok())),
            path,
            started_with,
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// The application new requests use.
    pub fn app(&self) -> Arc<App> {
        self.current.load_full()
    }

    /// The process's metrics (the same across reloads).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Loads the file again and, if it is valid and starts, makes it the running configuration.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let _one_at_a_time = self.reloading.lock().await;
        *lock(&self.last_seen) = std::fs::read(path).ok();
        let result = self.build(path).await;
        match &result {
            Ok(()) => tracing::info!(config = %path.display(), "configuration reloaded"),
            Err(e) => tracing::error!(
                config = %path.display(),
                error = %e,
                "configuration reload rejected; the running configuration stays"
            ),
        }
        self.metrics.reload(result.is_ok());
        result
    }

    async fn build(&self, path: &Path) -> Result<(), ReloadError> {
        let config = Config::load(path)?;
        if let Some((server, log)) = &self.started_with {
            let mut needs_restart = restart_only_changes(server, &config.server);
            if (log.format, &log.level) != (config.log.format, &config.log.level) {
                needs_restart.push("log");
            }
            if !needs_restart.is_empty() {
                tracing::warn!(
                    settings = needs_restart.join(", "),
                    "these settings take effect at the next restart"
                );
            }
        }
        let app = App::build_with(&config, self.metrics.clone()).await?;
        self.current.store(Arc::new(app));
        Ok(())
    }

    /// True when the file's bytes differ from those of the last reload attempt.
    fn file_changed(&self) -> bool {
        let Some(path) = &self.path else { return false };
        match std::fs::read(path) {
            Ok(now) => lock(&self.last_seen).as_deref() != Some(now.as_slice()),
            // A file being replaced may be missing for a moment: look again next time.
            Err(_) => false,
        }
    }

    /// Reloads whenever the file's content changes, checking every `interval` (polling works
    /// with editors that replace the file and with Kubernetes ConfigMap symlink swaps alike).
    pub async fn watch(self: Arc<Self>, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if self.file_changed() {
                tracing::info!("configuration file changed");
                let _ = self.reload().await;
            }
        }
    }

    /// Reloads on every SIGHUP.
    pub async fn on_sighup(self: Arc<Self>) {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; reload by editing the file");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the configuration");
            let _ = self.reload().await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The names of the server settings that differ and are read only at start.
fn restart_only_changes(old: &ServerSettings, new: &ServerSettings) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            changed.push(name);
        }
    };
    check("server.listen", old.listen != new.listen);
    check("server.admin_listen", old.admin_listen != new.admin_listen);
    check("server.tls_cert/tls_key", old.tls != new.tls);
    check("server.http2", old.http2 != new.http2);
    check(
        "server.max_connections",
        old.max_connections != new.max_connections,
    );
    check(
        "server timeouts",
        (
            old.header_read_timeout,
            old.request_timeout,
            old.idle_timeout,
            old.drain_timeout,
        ) != (
            new.header_read_timeout,
            new.request_timeout,
            new.idle_timeout,
            new.drain_timeout,
        ),
    );
    check(
        "server.max_header_bytes/max_uri_bytes",
        (old.max_header_bytes, old.max_uri_bytes) != (new.max_header_bytes, new.max_uri_bytes),
    );
    check(
        "server.reload_watch_interval",
        old.reload_watch_interval != new.reload_watch_interval,
    );
    changed
}
