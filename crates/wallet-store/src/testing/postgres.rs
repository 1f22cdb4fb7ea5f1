//! The PostgreSQL the tests run on: `WALLETD_TEST_POSTGRES` when it is set; else a throw-away
//! cluster of this test process's own (`initdb` and `pg_ctl` from the PATH or Debian's
//! `/usr/lib/postgresql/*/bin`), stopped and removed when the process ends; else none, and the
//! tests run their SQLite half only — with one loud line saying so and how to run the rest.
//!
//! So `cargo test --workspace` passes on a machine with no PostgreSQL server running, and CI,
//! which sets `WALLETD_TEST_POSTGRES`, fails when its server does not answer.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The variable naming the PostgreSQL server the tests use (a `postgres://…` URL).
pub const ENV: &str = "WALLETD_TEST_POSTGRES";

/// The server's URL, or `None` when the tests must skip their PostgreSQL half.
pub fn url() -> Option<&'static str> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| match std::env::var(ENV) {
        Ok(url) => Some(url),
        Err(_) => match throw_away_cluster() {
            Ok(url) => Some(url),
            Err(why) => {
                loud(&format!(
                    "\n*** PostgreSQL half of the tests SKIPPED: {why}.\n*** Run it with {ENV}=postgres://user@host:port/db, or with initdb and pg_ctl installed.\n"
                ));
                None
            }
        },
    })
    .as_deref()
}

/// Writes to the process's stderr itself, past the test harness's capture of `eprintln!`: this is
/// to be seen even when every test passes.
fn loud(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Starts a cluster in a new temporary directory on a free port: its `postgres://` URL.
fn throw_away_cluster() -> Result<String, String> {
    let bin = binaries().ok_or("initdb and pg_ctl are not installed")?;
    // initdb refuses to run as root: then the cluster is run by the `postgres` user, if any.
    let run_as =
        if is_root() {
            Some(user_exists("postgres").then_some("postgres").ok_or(
                "initdb refuses to run as root, and there is no postgres user to run it as",
            )?)
        } else {
            None
        };
    let dir = std::env::temp_dir().join(format!(
        "walletd_test_pg_{}_{}",
        std::process::id(),
        wallet_core::keys::random_base62(&mut rand::rng(), 8)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if let Some(user) = run_as {
        run(Command::new("chown").arg(user).arg(&dir), "chown")?;
    }
    let data = dir.join("data");
    let port = free_port()?;
    let initdb = [
        bin.join("initdb").display().to_string(),
        "-D".into(),
        data.display().to_string(),
        "-U".into(),
        "postgres".into(),
        "-A".into(),
        "trust".into(),
        "--no-sync".into(),
    ];
    run(&mut command(run_as, &initdb), "initdb")?;
    // The durability the tests check is the store's own (its commits, its SQLite file), not the
    // server's: a throw-away cluster need not sync.
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
        dir.display()
    );
    let pg_ctl = bin.join("pg_ctl").display().to_string();
    let start = [
        pg_ctl.clone(),
        "-D".into(),
        data.display().to_string(),
        "-o".into(),
        options,
        "-l".into(),
        dir.join("log").display().to_string(),
        "-w".into(),
        "start".into(),
    ];
    run(&mut command(run_as, &start), "pg_ctl start")?;
    remove_when_this_process_ends(run_as, &pg_ctl, &dir)?;
    loud(&format!(
        "PostgreSQL half of the tests: a throw-away cluster on port {port}\n"
    ));
    // The tests make a schema each in the cluster's own database.
    Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

/// A watcher, detached: once this process is gone it stops the cluster and removes its directory
/// (a test process may end by panic or abort, so no destructor would do).
fn remove_when_this_process_ends(
    run_as: Option<&str>,
    pg_ctl: &str,
    dir: &Path,
) -> Result<(), String> {
    let data = dir.join("data");
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}; rm -rf '{dir}'",
        pid = std::process::id(),
        stop = shell_line(
            run_as,
            &[
                pg_ctl,
                "-D",
                &data.display().to_string(),
                "-m",
                "immediate",
                "stop"
            ]
        ),
        dir = dir.display(),
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("starting the cluster's watcher: {e}"))
}

/// `args` as a command, run by `user` when given (as root).
fn command(user: Option<&str>, args: &[String]) -> Command {
    let mut c = match user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(&args[0]);
            c
        }
        None => Command::new(&args[0]),
    };
    c.args(&args[1..]);
    c
}

fn shell_line(user: Option<&str>, args: &[&str]) -> String {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    match user {
        Some(user) => format!("runuser -u {user} -- {}", quoted.join(" ")),
        None => quoted.join(" "),
    }
}

fn run(c: &mut Command, what: &str) -> Result<(), String> {
    let out = c.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The directory holding `initdb` and `pg_ctl`: on the PATH, or Debian's newest.
fn binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    debian.sort();
    on_path
        .chain(debian.into_iter().rev())
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
