//! Walks directory trees for `tollgate dir`. One thread enumerates paths into a bounded
//! channel; the scan stage reads and matches them in parallel. `.git` directories are
//! never entered and symbolic links are not followed unless asked.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crossbeam_channel::Sender;
use walkdir::WalkDir;

/// A file to scan, with the root it was found under.
#[derive(Debug, Clone)]
pub struct DirEntry {
    pub path: PathBuf,
    pub root: PathBuf,
}

/// Why the walker passed over something.
#[derive(Debug, Clone)]
pub enum WalkEvent {
    File(DirEntry),
    Symlink(PathBuf),
    /// A FIFO, socket or device: reading it could block or never end.
    Special(PathBuf),
    Error(String),
}

#[derive(Debug, Clone, Copy)]
pub struct WalkOptions {
    pub follow_symlinks: bool,
}

/// Enumerate every regular file under `roots` into `tx`; stops early if the receiver
/// hangs up.
pub fn walk(roots: &[PathBuf], options: WalkOptions, tx: &Sender<WalkEvent>) {
    for root in roots {
        // A path the user names is followed even when it is a link (a dotfile manager's
        // `~/.aws/credentials`); links found inside it are followed only when asked.
        let walker = WalkDir::new(root)
            .follow_links(options.follow_symlinks)
            .follow_root_links(true)
            .into_iter()
            .filter_entry(|e| {
                !(e.file_type().is_dir() && (e.file_name() == ".git" || is_virtual_fs(e.path())))
            });
        for entry in walker {
            let event = match entry {
                Ok(e) if e.file_type().is_file() => WalkEvent::File(DirEntry {
                    path: e.into_path(),
                    root: root.clone(),
                }),
                Ok(e) if e.depth() == 0 && e.path_is_symlink() => match std::fs::metadata(e.path())
                {
                    Ok(m) if m.is_file() => WalkEvent::File(DirEntry {
                        path: e.into_path(),
                        root: root.clone(),
                    }),
                    Ok(m) if m.is_dir() => continue,
                    Ok(_) => WalkEvent::Special(e.into_path()),
                    Err(err) => WalkEvent::Error(format!("{}: {err}", e.path().display())),
                },
                Ok(e) if e.path_is_symlink() && !e.file_type().is_dir() => {
                    WalkEvent::Symlink(e.into_path())
                }
                Ok(e) if e.file_type().is_dir() => continue,
                Ok(e) => WalkEvent::Special(e.into_path()),
                Err(err) => WalkEvent::Error(walk_error_message(&err)),
            };
            if tx.send(event).is_err() {
                return;
            }
        }
    }
}

/// Kernel file systems hold no repository content, and some of their files block
/// forever when read (`/proc/kmsg`). They are skipped when a walk reaches them.
fn is_virtual_fs(path: &Path) -> bool {
    [Path::new("/proc"), Path::new("/sys"), Path::new("/dev")].contains(&path)
}

fn walk_error_message(err: &walkdir::Error) -> String {
    match (err.path(), err.loop_ancestor()) {
        (Some(p), Some(a)) => format!("{}: symbolic link loop to {}", p.display(), a.display()),
        (Some(p), None) => format!(
            "{}: {}",
            p.display(),
            err.io_error().map_or(err.to_string(), |e| e.to_string())
        ),
        (None, _) => err.to_string(),
    }
}

/// What reading a file gave.
#[derive(Debug)]
pub enum FileContent {
    Text(Vec<u8>),
    TooLarge(u64),
    Binary,
}

/// Read a file, skipping it if larger than `max_size` or binary.
pub fn read_file(path: &Path, max_size: u64) -> std::io::Result<FileContent> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > max_size {
        return Ok(FileContent::TooLarge(len));
    }
    // An empty file needs no read; a kernel file that claims to be empty may block.
    if len == 0 {
        return Ok(FileContent::Text(Vec::new()));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // The file may grow while we read it: never take more than the limit.
    file.take(max_size + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_size {
        return Ok(FileContent::TooLarge(bytes.len() as u64));
    }
    let bytes = super::utf16_to_utf8(bytes);
    if super::is_binary(&bytes) {
        return Ok(FileContent::Binary);
    }
    Ok(FileContent::Text(bytes))
}

/// The path relative to its root, `/`-separated; a root that is a file gives its name.
pub fn relative_path(entry: &DirEntry) -> String {
    let rel = entry.path.strip_prefix(&entry.root).unwrap_or(&entry.path);
    let rel = if rel.as_os_str().is_empty() {
        entry.path.file_name().map_or(rel, Path::new)
    } else {
        rel
    };
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(root: &Path, follow: bool) -> Vec<WalkEvent> {
        let (tx, rx) = crossbeam_channel::unbounded();
        walk(
            &[root.to_path_buf()],
            WalkOptions {
                follow_symlinks: follow,
            },
            &tx,
        );
        drop(tx);
        rx.into_iter().collect()
    }

    #[test]
    fn git_dirs_are_skipped_and_files_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git/objects")).unwrap();
        std::fs::write(dir.path().join(".git/config"), "x").unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/c.env"), "x").unwrap();
        let files: Vec<String> = collect(dir.path(), false)
            .into_iter()
            .filter_map(|e| match e {
                WalkEvent::File(f) => Some(relative_path(&f)),
                _ => None,
            })
            .collect();
        assert_eq!(files, vec!["a/b/c.env"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_reported_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        let events = collect(dir.path(), false);
        assert!(events
            .iter()
            .any(|e| matches!(e, WalkEvent::Symlink(p) if p.ends_with("link"))));
        let followed = collect(dir.path(), true);
        assert_eq!(
            followed
                .iter()
                .filter(|e| matches!(e, WalkEvent::File(_)))
                .count(),
            2
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_reported_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let events = collect(dir.path(), false);
        assert!(events
            .iter()
            .any(|e| matches!(e, WalkEvent::Special(p) if p.ends_with("pipe"))));
        let root = collect(&fifo, false);
        assert!(matches!(root.as_slice(), [WalkEvent::Special(_)]));
    }

    #[cfg(unix)]
    #[test]
    fn a_root_that_is_a_link_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real.env"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.env"), dir.path().join("link.env"))
            .unwrap();
        let events = collect(&dir.path().join("link.env"), false);
        assert!(
            matches!(events.as_slice(), [WalkEvent::File(_)]),
            "{events:?}"
        );
    }

    #[test]
    fn read_file_skips_large_and_binary() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 100]).unwrap();
        assert!(matches!(
            read_file(&big, 10).unwrap(),
            FileContent::TooLarge(100)
        ));
        let bin = dir.path().join("bin");
        std::fs::write(&bin, b"\x7fELF\0\0\0").unwrap();
        assert!(matches!(
            read_file(&bin, 1000).unwrap(),
            FileContent::Binary
        ));
        assert!(read_file(&dir.path().join("missing"), 10).is_err());
    }

    #[test]
    fn relative_path_of_a_file_root_is_its_name() {
        let e = DirEntry {
            path: "x/y.txt".into(),
            root: "x/y.txt".into(),
        };
        assert_eq!(relative_path(&e), "y.txt");
        let e = DirEntry {
            path: "x/a/b.txt".into(),
            root: "x".into(),
        };
        assert_eq!(relative_path(&e), "a/b.txt");
    }
}
