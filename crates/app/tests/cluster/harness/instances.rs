//! `whisper serve` processes sharing one database, secret key, media directory, mail
//! directory and Redis: what API.md's "Several instances" calls one server.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Semaphore, SemaphorePermit};
use whisper_e2e::{TEST_SECRET_KEY, TempDir, random_suffix};
use whisper_http::routes;
use whisper_postgres::testing::TestDatabase;

use super::process::Instance;
use super::{DEADLINE, free_port};

/// Two cores here: more than two clusters at once only makes every test slow.
static RUNNING_CLUSTERS: Semaphore = Semaphore::const_new(2);

/// How [`Cluster::launch`] starts its instances; the default is [`Cluster::start_with`]'s.
#[derive(Debug, Default)]
pub struct Launch {
    /// A database URL of the test's own (migrate_on_start creates and migrates it) instead
    /// of a fresh database on the shared server.
    pub database_url: Option<String>,
    /// A command line that runs the whisper binary (appended, then `serve`) for it.
    pub wrapper: Vec<String>,
}

/// N instances of one server, and the database, directories and Redis they share.
pub struct Cluster {
    /// The instances, addressed by index in tests (A = 0, B = 1, …).
    pub instances: Vec<Instance>,
    env: HashMap<String, String>,
    /// Shared: mail files (`mail/`), media (`media/`), logs.
    pub work: TempDir,
    wrapper: Vec<String>,
    /// The recipient of each mail file read so far, so a crowd signing up reads each once.
    pub(super) recipients: std::sync::Mutex<HashMap<PathBuf, String>>,
    // Dropped after the instances (fields drop in order): nobody uses the database then.
    _database: Option<TestDatabase>,
    _permit: SemaphorePermit<'static>,
}

impl Cluster {
    /// `count` instances on a fresh migrated database; with `redis_url` they share that
    /// Redis under a key prefix of their own, without it each fans out in process.
    pub async fn start(count: usize, redis_url: Option<&str>) -> Self {
        Self::start_with(count, redis_url, &[]).await
    }

    /// [`Cluster::start`] with `extra_env` set on every instance as well, overriding the
    /// harness's defaults (e.g. `("WHISPER_RATE_LIMITS", "on")`).
    pub async fn start_with(
        count: usize,
        redis_url: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> Self {
        Self::launch(count, redis_url, extra_env, Launch::default()).await
    }

    /// [`Cluster::start_with`] the way `launch` says: on another database server, or each
    /// process started through a wrapper.
    pub async fn launch(
        count: usize,
        redis_url: Option<&str>,
        extra_env: &[(&str, &str)],
        launch: Launch,
    ) -> Self {
        let permit = RUNNING_CLUSTERS.acquire().await.unwrap();
        let (database, database_url) = match launch.database_url {
            Some(url) => (None, url),
            None => {
                let database = TestDatabase::create().await;
                let url = database.url.clone();
                (Some(database), url)
            }
        };
        let work = TempDir::new("cluster");
        let mut env = shared_env(&database_url, &work.0, redis_url);
        for (name, value) in extra_env {
            env.insert((*name).to_owned(), (*value).to_owned());
        }
        let mut cluster = Self {
            instances: Vec::with_capacity(count),
            env,
            work,
            wrapper: launch.wrapper,
            recipients: Default::default(),
            _database: database,
            _permit: permit,
        };
        for index in 0..count {
            let log = cluster.work.0.join(format!("instance-{index}.log"));
            let mut instance = Instance {
                port: free_port(),
                child: None,
                log,
            };
            instance.spawn(&cluster.env, &cluster.work.0, &cluster.wrapper);
            cluster.instances.push(instance);
        }
        for instance in &mut cluster.instances {
            instance.wait_ready().await;
        }
        cluster
    }

    /// Instance `index`'s base URL.
    pub fn url(&self, index: usize) -> String {
        self.instances[index].url()
    }

    /// How many instances there are.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// The database every instance uses (`DATABASE_URL`).
    pub fn database_url(&self) -> &str {
        &self.env["DATABASE_URL"]
    }

    /// The shared media directory (`WHISPER_MEDIA_DIR`).
    pub fn media_dir(&self) -> PathBuf {
        self.work.0.join("media")
    }

    /// The process id of instance `index` (its wrapper's, which became whisper).
    pub fn pid(&self, index: usize) -> u32 {
        self.instances[index].child.as_ref().unwrap().id()
    }

    /// The shared `file:` mail directory.
    pub fn mail_dir(&self) -> PathBuf {
        self.work.0.join("mail")
    }

    /// SIGKILLs instance `index` (no shutdown of any kind) and reaps it.
    pub fn kill(&mut self, index: usize) {
        self.instances[index].kill();
    }

    /// SIGTERMs instance `index` and waits for it to exit: its status and how long the
    /// drain took.
    pub async fn terminate(&mut self, index: usize) -> (ExitStatus, Duration) {
        self.instances[index].terminate().await
    }

    /// Starts instance `index` again on its port and waits until it is ready.
    pub async fn restart(&mut self, index: usize) {
        let instance = &mut self.instances[index];
        instance.kill();
        instance.spawn(&self.env, &self.work.0, &self.wrapper);
        instance.wait_ready().await;
    }

    /// Whether instance `index` answers HTTP at all (`/health/live`).
    pub async fn answers(&self, index: usize) -> bool {
        let url = format!("{}{}", self.url(index), routes::HEALTH_LIVE);
        reqwest::get(url).await.is_ok()
    }

    /// Instance `index`'s `/health/ready`: its status code and JSON body.
    pub async fn readiness(&self, index: usize) -> (u16, Value) {
        let url = format!("{}{}", self.url(index), routes::HEALTH_READY);
        let response = reqwest::get(url).await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Waits until instance `index`'s `/health/ready` says `status` (`ready`, `degraded`).
    /// Polled: an outage being noticed gives nothing to wait on.
    pub async fn readiness_becomes(&self, index: usize, status: &str) -> Value {
        let what = format!("instance {index} reporting {status}");
        whisper_e2e::eventually(&what, DEADLINE, || async {
            let (code, body) = self.readiness(index).await;
            (code == 200 && body["status"] == status).then_some(body)
        })
        .await
    }

    /// How many times instance `index`'s log contains `text`.
    pub fn log_count(&self, index: usize, text: &str) -> usize {
        self.instances[index].log().matches(text).count()
    }

    /// Every instance's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut logs = String::new();
        for (index, instance) in self.instances.iter().enumerate() {
            logs.push_str(&format!("--- instance {index}\n{}", instance.log()));
        }
        logs
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A failing test shows what the servers said (the harness captures stderr).
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
    }
}

/// The environment every instance of one cluster shares (each adds its own address).
fn shared_env(database_url: &str, work: &Path, redis_url: Option<&str>) -> HashMap<String, String> {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let mut env: HashMap<String, String> = [
        ("WHISPER_ENV", "test".to_owned()),
        ("WHISPER_CONFIG_DIR", config.display().to_string()),
        ("DATABASE_URL", database_url.to_owned()),
        ("WHISPER_SECRET_KEY", TEST_SECRET_KEY.to_owned()),
        (
            "WHISPER_MAIL",
            format!("file:{}", work.join("mail").display()),
        ),
        (
            "WHISPER_MEDIA_DIR",
            work.join("media").display().to_string(),
        ),
        ("WHISPER_RATE_LIMITS", "off".to_owned()),
        ("WHISPER_WORKERS", "2".to_owned()),
        ("WHISPER_METRICS_ADDR", "off".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    if let Some(url) = redis_url {
        env.insert("WHISPER_REDIS_URL".into(), url.to_owned());
        let prefix = format!("whisper-test-{}", random_suffix());
        env.insert("WHISPER_REDIS_PREFIX".into(), prefix);
    }
    if let Ok(path) = std::env::var("PATH") {
        env.insert("PATH".into(), path);
    }
    env
}
