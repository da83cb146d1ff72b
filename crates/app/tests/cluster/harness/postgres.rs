//! A PostgreSQL cluster of the test's own (`initdb` into a temporary directory, a free
//! port, trust auth), for tests that stop the database: the shared one at 127.0.0.1:5432
//! must never be stopped.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use whisper_e2e::TempDir;

use super::free_port;
use super::ready_line::ReadyLine;

/// Where Debian installs the server binaries, newest version first.
const DEBIAN_BINARIES: &str = "/usr/lib/postgresql";

/// A `postgres` child process over a data directory of its own, killed when dropped.
pub struct PostgresServer {
    port: u16,
    bin: PathBuf,
    dir: TempDir,
    /// PostgreSQL refuses to run as root: then it runs as the `postgres` user.
    owner: Option<(u32, u32)>,
    child: Option<Child>,
}

impl PostgresServer {
    /// `initdb` into a fresh directory and starts the server on a free port; waits until
    /// it accepts connections.
    pub fn start() -> Self {
        let bin = binaries();
        let dir = TempDir::new("postgres");
        let owner = running_as_root().then(postgres_user);
        if let Some((uid, gid)) = owner {
            chown(&dir.0, uid, gid);
        }
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .args(["-D", "data", "-A", "trust", "-U", "postgres", "-E", "UTF8"])
            .arg("--no-sync")
            .current_dir(&dir.0)
            .stdout(Stdio::null());
        as_owner(&mut initdb, owner);
        let output = initdb.output().unwrap();
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut server = Self {
            port: free_port(),
            bin,
            dir,
            owner,
            child: None,
        };
        server.start_again();
        server
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>` (the database need not exist).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A fast shutdown (SIGINT: sessions are ended, nothing is lost) and waits for the exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, "-INT");
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data, and waits until it answers.
    pub fn start_again(&mut self) {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.0.join("postgres.log"))
            .unwrap();
        let port = self.port.to_string();
        let mut postgres = Command::new(self.bin.join("postgres"));
        postgres
            .args(["-D", "data", "-p", &port, "-k", "."])
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            // English, whatever the machine's locale: the wait reads the readiness line.
            .args(["-c", "max_connections=60", "-c", "lc_messages=C"])
            .current_dir(&self.dir.0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(Stdio::piped());
        as_owner(&mut postgres, self.owner);
        let mut child = postgres.spawn().unwrap();
        let output = child.stderr.take().unwrap();
        self.child = Some(child);
        ReadyLine::watch(
            output,
            log,
            "database system is ready to accept connections",
        )
        .wait("postgres", || self.log());
    }

    /// What the server logged, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // Immediate shutdown: nothing of this cluster is kept.
        if let Some(mut child) = self.child.take() {
            signal(&child, "-QUIT");
            let _ = child.wait();
        }
    }
}

fn signal(child: &Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
}

/// The newest `/usr/lib/postgresql/<version>/bin`, or the directory of `initdb` on PATH.
fn binaries() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(DEBIAN_BINARIES)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let found = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    match found {
        Some(initdb) => Path::new(&initdb).parent().unwrap().to_owned(),
        None => panic!(
            "this test starts its own PostgreSQL, but no initdb was found (under \
             {DEBIAN_BINARIES} or on PATH): install it (Debian: `apt-get install postgresql`)"
        ),
    }
}

fn running_as_root() -> bool {
    id(&["-u"]) == 0
}

/// The uid and gid of the `postgres` user (the Debian package creates it).
fn postgres_user() -> (u32, u32) {
    (id(&["-u", "postgres"]), id(&["-g", "postgres"]))
}

fn id(args: &[&str]) -> u32 {
    let output = Command::new("id").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "`id {}` failed: running as root, this test needs a `postgres` user to run \
         PostgreSQL as",
        args.join(" ")
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

fn chown(dir: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).unwrap();
}

fn as_owner(command: &mut Command, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
}
