//! Which TCP ports a process listens on, read from `/proc`: its file descriptors name
//! socket inodes, and `/proc/net/tcp{,6}` says which inode listens on which port.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

/// `st` of a listening socket in `/proc/net/tcp`.
const LISTEN: &str = "0A";

/// Every port listened on by the process that listens on `port`.
pub fn ports_of_the_process_on(port: u16) -> BTreeSet<u16> {
    let listeners = listening_inodes();
    let owner = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
        .map(|entry| socket_inodes(&entry.path()))
        .find(|inodes| {
            inodes
                .iter()
                .any(|inode| listeners.get(inode) == Some(&port))
        })
        .unwrap_or_else(|| panic!("no process listens on {port}"));
    owner
        .iter()
        .filter_map(|inode| listeners.get(inode).copied())
        .collect()
}

/// Listening socket inode → its port.
fn listening_inodes() -> HashMap<u64, u16> {
    let mut listeners = HashMap::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || fields[3] != LISTEN {
                continue;
            }
            let port = fields[1].rsplit(':').next().unwrap();
            let port = u16::from_str_radix(port, 16).unwrap();
            listeners.insert(fields[9].parse().unwrap(), port);
        }
    }
    listeners
}

/// The inodes of the sockets the process at `/proc/<pid>` holds open.
fn socket_inodes(process: &Path) -> HashSet<u64> {
    let Ok(fds) = std::fs::read_dir(process.join("fd")) else {
        return HashSet::new();
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}
