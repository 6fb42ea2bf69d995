//! Walks directory trees for `tollgate dir`. One thread enumerates paths into a bounded
//! channel; the scan stage reads and matches them in parallel. `.git` directories are
//! never entered and symbolic links are not followed unless asked.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crossbeam_channel::Sender;
use walkdir::WalkDir;

use super::sniff::{binary_by_head, BINARY_CHECK_WINDOW};

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
    /// A followed link inside a tree that leads to no content: back to a directory the
    /// walk is already in (read there), to nothing, or round a chain of links.
    UnresolvedLink(String),
    /// Something that could not be read: the scan is incomplete.
    Error(String),
    /// A path the user named that could not be read at all (a dangling link, a loop of
    /// links, permission denied).
    RootError(String),
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
                Err(err) if err.depth() == 0 => WalkEvent::RootError(walk_error_message(&err)),
                Err(err) if leads_nowhere(&err) => {
                    WalkEvent::UnresolvedLink(walk_error_message(&err))
                }
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

/// A link whose target is a walked ancestor, is missing, or is a loop of links: there
/// is no content behind it that the walk does not read. Anything else that fails
/// (permission denied, an I/O error) is content left unread.
fn leads_nowhere(err: &walkdir::Error) -> bool {
    if err.loop_ancestor().is_some() {
        return true;
    }
    let is_link = err
        .path()
        .and_then(|p| std::fs::symlink_metadata(p).ok())
        .is_some_and(|m| m.file_type().is_symlink());
    is_link
        && err.io_error().is_some_and(|e| {
            e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ELOOP)
        })
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
    /// The whole file, not binary by its head: [`super::sniff::sniff`] says how to read it.
    Bytes(Vec<u8>),
    TooLarge(u64),
    Binary,
}

/// Read a file, skipping it if larger than `max_size` or binary. The head is read first
/// and a binary file is not read further, so a large binary under a large `max_size`
/// costs 8000 bytes, not its size.
pub fn read_file(path: &Path, max_size: u64) -> std::io::Result<FileContent> {
    read_file_as(path, max_size, true)
}

/// [`read_file`] for a file that must be read whatever its head looks like: a binary
/// credential store is reported, not skipped.
pub fn read_file_whole(path: &Path, max_size: u64) -> std::io::Result<FileContent> {
    read_file_as(path, max_size, false)
}

fn read_file_as(path: &Path, max_size: u64, skip_binary: bool) -> std::io::Result<FileContent> {
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > max_size {
        return Ok(FileContent::TooLarge(len));
    }
    // An empty file needs no read; a kernel file that claims to be empty may block.
    if len == 0 {
        return Ok(FileContent::Bytes(Vec::new()));
    }
    // The file may grow while we read it: never take more than the limit.
    let mut reader = file.take(max_size + 1);
    let head_len = len.min(BINARY_CHECK_WINDOW as u64) as usize;
    let mut bytes = Vec::with_capacity(head_len);
    (&mut reader)
        .take(BINARY_CHECK_WINDOW as u64)
        .read_to_end(&mut bytes)?;
    if skip_binary && binary_by_head(&bytes) {
        return Ok(FileContent::Binary);
    }
    if bytes.len() == BINARY_CHECK_WINDOW {
        bytes.reserve((len as usize).saturating_sub(bytes.len()));
        reader.read_to_end(&mut bytes)?;
    }
    if bytes.len() as u64 > max_size {
        return Ok(FileContent::TooLarge(bytes.len() as u64));
    }
    Ok(FileContent::Bytes(bytes))
}

/// Open a file the walk saw as regular without blocking if it has since been replaced
/// by a FIFO (opening one for reading waits for a writer), and refuse anything that is
/// no longer a regular file.
fn open_regular(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("no longer a regular file"));
    }
    Ok(file)
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
    fn a_large_binary_is_judged_by_its_head_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let sparse = dir.path().join("disk.img");
        // 64 GiB of holes: reading it whole would take minutes and the memory to hold it.
        let file = File::create(&sparse).unwrap();
        file.set_len(64 << 30).unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(
            read_file(&sparse, u64::MAX - 1).unwrap(),
            FileContent::Binary
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn a_utf16_head_and_a_late_nul_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let utf16 = dir.path().join("win.ps1");
        let mut bytes = vec![0xFF, 0xFE];
        for _ in 0..10_000 {
            bytes.extend_from_slice(&[b'a', 0]);
        }
        std::fs::write(&utf16, &bytes).unwrap();
        assert!(matches!(read_file(&utf16, 1 << 20).unwrap(), FileContent::Bytes(b) if b == bytes));
        let late = dir.path().join("late.txt");
        let mut bytes = vec![b'a'; BINARY_CHECK_WINDOW];
        bytes.extend_from_slice(b"\0key=abc\n");
        std::fs::write(&late, &bytes).unwrap();
        assert!(matches!(read_file(&late, 1 << 20).unwrap(), FileContent::Bytes(b) if b == bytes));
        let exact = dir.path().join("exact.txt");
        std::fs::write(&exact, vec![b'a'; BINARY_CHECK_WINDOW]).unwrap();
        assert!(
            matches!(read_file(&exact, 1 << 20).unwrap(), FileContent::Bytes(b) if b.len() == BINARY_CHECK_WINDOW)
        );
        assert!(matches!(
            read_file(&late, BINARY_CHECK_WINDOW as u64).unwrap(),
            FileContent::TooLarge(_)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn links_to_nothing_inside_a_tree_are_not_unreadable_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/up")).unwrap();
        std::os::unix::fs::symlink("nowhere", dir.path().join("dangling")).unwrap();
        std::os::unix::fs::symlink("self", dir.path().join("self")).unwrap();
        let events = collect(dir.path(), true);
        let unresolved = events
            .iter()
            .filter(|e| matches!(e, WalkEvent::UnresolvedLink(_)))
            .count();
        assert_eq!(unresolved, 3, "{events:?}");
        assert!(!events.iter().any(|e| matches!(e, WalkEvent::Error(_))));
        // Named on the command line, the same links are paths that could not be read.
        for named in ["dangling", "self"] {
            let events = collect(&dir.path().join(named), false);
            assert!(
                matches!(events.as_slice(), [WalkEvent::RootError(_)]),
                "{events:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_in_place_of_a_file_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(read_file(&fifo, 1000).is_err());
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
