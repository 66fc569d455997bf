//! Updates you can trust: interrupted, concurrent and failing ingests never damage the index
//! or lose an entry; damage is detected and reported in one line; ingest converges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use proptest::prelude::*;
use yearbook::ingest::ingest;
use yearbook::search::{Engine, SearchOptions};

use crate::util::{yearbook, Workspace};

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("yearbook")
}

/// A page with `entries` entries, all containing 测.
fn page(name: &str, version: usize, entries: usize) -> String {
    let mut text = format!("当前位置:测试网 / 测试市年鉴 / 2020卷 / 综合\n\n  • {name}\n");
    for number in 0..entries {
        text.push_str(&format!(
            "    【{name}条目{number}】\u{a0} 测试{name}第{version}版第{number}条正文，内容用于检验增量更新与崩溃恢复。{}\n\n",
            "农牧业生产稳定增长，基础设施不断完善。".repeat(3)
        ));
    }
    text
}

fn write_corpus(workspace: &Workspace, pages: usize, version: usize) {
    for number in 0..pages {
        workspace.write(
            &format!("卷{}/页{number:04}.txt", number % 7),
            page(&format!("页{number}"), version, 3),
        );
    }
}

/// Every entry the index returns, as id → (path, heading, snippet); panics on duplicates.
fn contents(index: &Path) -> BTreeMap<String, (String, String, String)> {
    let engine = Engine::open(index).unwrap();
    let hits = engine
        .search(
            "测",
            &SearchOptions {
                limit: 1_000_000,
                filters: Default::default(),
            },
        )
        .unwrap();
    let mut out = BTreeMap::new();
    for hit in hits {
        let previous = out.insert(hit.id.clone(), (hit.path, hit.heading, hit.snippet));
        assert!(previous.is_none(), "entry {} is in the index twice", hit.id);
    }
    out
}

fn clean_contents(corpus: &Path) -> BTreeMap<String, (String, String, String)> {
    let fresh = tempfile::TempDir::new().unwrap();
    let index = fresh.path().join("index");
    ingest(&crate::util::ingest_options(corpus, &index), &mut |_| {}).unwrap();
    contents(&index)
}

/// Runs `yearbook verify` and fails with its report unless the index is whole.
fn assert_verifies(index: &Path, context: &str) {
    let verify = yearbook()
        .arg("verify")
        .arg("--index")
        .arg(index)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{context}: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

fn ingest_command(workspace: &Workspace) -> Command {
    let mut command = Command::new(binary());
    command
        .arg("ingest")
        .arg("--quiet")
        .arg("--corpus")
        .arg(workspace.corpus())
        .arg("--index")
        .arg(workspace.index())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// A small deterministic generator (no extra crates): xorshift64*.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn kill_9_at_random_points_never_damages_and_converges() {
    let rounds: usize = std::env::var("YEARBOOK_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let workspace = Workspace::new();
    write_corpus(&workspace, 120, 0);
    let started = Instant::now();
    assert!(ingest_command(&workspace).status().unwrap().success());
    let full = started.elapsed();
    let mut random = Random(0x5eed_1234_abcd_0001);
    let mut killed = 0;
    for round in 0..rounds {
        // Change the corpus: rewrite some pages, add some, remove some.
        for _ in 0..10 {
            let number = random.below(160);
            let path = workspace
                .corpus()
                .join(format!("卷{}/页{number:04}.txt", number % 7));
            if random.below(4) == 0 {
                let _ = std::fs::remove_file(&path);
            } else {
                workspace.write(
                    &format!("卷{}/页{number:04}.txt", number % 7),
                    page(
                        &format!("页{number}"),
                        round + 1,
                        1 + random.below(4) as usize,
                    ),
                );
            }
        }
        let mut child = ingest_command(&workspace).spawn().unwrap();
        let delay = Duration::from_micros(random.below(full.as_micros() as u64 * 12 / 10));
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        // The index opens, verifies and answers, with no entry twice.
        assert_verifies(&workspace.index(), &format!("round {round}"));
        contents(&workspace.index());
    }
    assert!(ingest_command(&workspace).status().unwrap().success());
    assert_eq!(
        contents(&workspace.index()),
        clean_contents(&workspace.corpus())
    );
    eprintln!("crash loop: {rounds} rounds, {killed} ingests killed mid-run, converged");
    assert!(killed > 0, "no ingest was interrupted; the timing is off");
}

#[test]
fn a_second_ingest_says_at_once_that_one_is_running_or_waits() {
    let workspace = Workspace::new();
    write_corpus(&workspace, 1500, 0);
    assert!(ingest_command(&workspace).status().unwrap().success());
    // Two ingests at once: whichever takes the lock second must refuse at once, with exit
    // code 75, while searches keep answering.
    let mut searches = 0;
    let refused = loop {
        let first = ingest_command(&workspace).arg("--rebuild").spawn().unwrap();
        let second = ingest_command(&workspace)
            .arg("--rebuild")
            .output()
            .unwrap();
        let search = yearbook()
            .args(["search", "--json", "测"])
            .arg("--index")
            .arg(workspace.index())
            .output()
            .unwrap();
        assert_eq!(
            search.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&search.stderr)
        );
        searches += 1;
        let first = first.wait_with_output().unwrap();
        match (first.status.code(), second.status.code()) {
            (Some(0), Some(75)) => break second,
            (Some(75), Some(0)) => break first,
            // No overlap this time (one finished before the other started): try again.
            (Some(0), Some(0)) => assert!(searches < 20, "never overlapped"),
            other => panic!("unexpected exit codes {other:?}"),
        }
    };
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert!(stderr.contains("another ingest is running"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(searches >= 1);
    // Whatever happened, the index holds the corpus exactly once.
    assert_eq!(contents(&workspace.index()).len(), 1500 * 3);

    // With --wait on both, whichever takes the lock second waits for the other.
    let mut first = ingest_command(&workspace)
        .args(["--rebuild", "--wait"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let waited = ingest_command(&workspace).arg("--wait").output().unwrap();
    assert!(first.wait().unwrap().success());
    assert!(
        waited.status.success(),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
}

/// Unmounts a tmpfs or bind mount when the test ends, however it ends.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn mount(args: &[&str], target: &Path) -> Option<Mount> {
    let status = Command::new("mount")
        .args(args)
        .arg(target)
        .stderr(Stdio::null())
        .status()
        .ok()?;
    status.success().then(|| Mount(target.to_path_buf()))
}

fn used_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.metadata().ok())
        .filter(|metadata| metadata.is_file())
        .map(|metadata| metadata.len())
        .sum()
}

#[test]
fn disk_full_leaves_the_last_commit_and_cleans_up() {
    let workspace = Workspace::new();
    std::fs::create_dir_all(workspace.index()).unwrap();
    let Some(_mount) = mount(
        &["-t", "tmpfs", "-o", "size=512k", "tmpfs"],
        &workspace.index(),
    ) else {
        eprintln!("skipped: cannot mount a tmpfs here (not root)");
        return;
    };
    workspace.write("a.txt", page("甲", 0, 2));
    let first = workspace.ingest();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let before = contents(&workspace.index());
    let used_before = used_bytes(&workspace.index());

    write_corpus(&workspace, 1500, 1);
    let full = workspace.ingest();
    assert_eq!(full.status.code(), Some(2));
    let stderr = String::from_utf8(full.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    // The index is at its last commit, and what the failed run wrote is gone.
    assert_eq!(contents(&workspace.index()), before);
    let used_after = used_bytes(&workspace.index());
    assert!(
        used_after <= used_before + 64 * 1024,
        "{used_before} → {used_after} bytes"
    );
}

#[test]
fn search_works_on_a_read_only_index() {
    let workspace = Workspace::new();
    workspace.write("a.txt", page("甲", 0, 2));
    assert!(workspace.ingest().status.success());
    let index = workspace.index();
    let Some(_bind) = mount(&["--bind", index.to_str().unwrap()], &index) else {
        eprintln!("skipped: cannot bind-mount here (not root)");
        return;
    };
    let remount = Command::new("mount")
        .args(["-o", "remount,bind,ro"])
        .arg(&index)
        .status()
        .unwrap();
    assert!(remount.success());
    assert!(
        std::fs::File::create(index.join("probe")).is_err(),
        "the index is read-only"
    );
    assert_eq!(workspace.search("测试", &[]).len(), 2);
    assert_verifies(&index, "read-only");
    let ingest = workspace.ingest();
    assert_eq!(ingest.status.code(), Some(2));
    assert_eq!(String::from_utf8(ingest.stderr).unwrap().lines().count(), 1);
}

fn flip_middle_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(path, bytes).unwrap();
}

fn truncate_half(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

#[test]
fn damaged_index_files_are_reported_never_panic_and_rebuild_recovers() {
    type Damage = fn(&Path);
    let table: &[(&str, &str, Damage)] = &[
        ("store", "a flipped byte", flip_middle_byte),
        ("term", "a flipped byte", flip_middle_byte),
        ("idx", "a flipped byte", flip_middle_byte),
        ("pos", "a flipped byte", flip_middle_byte),
        ("fieldnorm", "a flipped byte", flip_middle_byte),
        ("fast", "a flipped byte", flip_middle_byte),
        ("store", "truncation", truncate_half),
        ("term", "truncation", truncate_half),
        ("json", "a flipped byte", flip_middle_byte),
    ];
    for (extension, how, damage) in table {
        let workspace = Workspace::new();
        workspace.write(
            "a.txt",
            std::fs::read(crate::util::real_page_path()).unwrap(),
        );
        assert!(workspace.ingest().status.success());
        let target = std::fs::read_dir(workspace.index())
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == *extension))
            .max_by_key(|path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
            .unwrap();
        damage(&target);
        let case = format!("{extension} damaged by {how}");

        let mut single_search_failed = false;
        for args in [
            vec!["search", "扶贫"],
            vec!["search", "--json", "贫"],
            vec!["show", "nonexistent"],
            vec!["search", "--queries", "-"],
        ] {
            let output = yearbook()
                .args(&args)
                .arg("--index")
                .arg(workspace.index())
                .write_stdin("q1\t扶贫\nq2\t贫\n")
                .output()
                .unwrap();
            if args == ["search", "扶贫"] {
                single_search_failed = output.status.code() == Some(2);
            }
            if args.contains(&"--queries") && single_search_failed {
                // The same query in a batch must fail the same way, not vanish.
                assert_eq!(output.status.code(), Some(2), "{case}: batch");
            }
            let stderr = String::from_utf8(output.stderr).unwrap();
            assert!(
                !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
                "{case}: {stderr}"
            );
            assert!(stderr.lines().count() <= 1, "{case}: {stderr}");
            if output.status.code() == Some(2) {
                assert!(stderr.starts_with("yearbook: error: "), "{case}: {stderr}");
            }
        }
        let verify = yearbook()
            .arg("verify")
            .arg("--index")
            .arg(workspace.index())
            .output()
            .unwrap();
        assert_eq!(verify.status.code(), Some(2), "{case}: verify must notice");
        let rebuild = yearbook()
            .args(["ingest", "--rebuild", "--corpus"])
            .arg(workspace.corpus())
            .arg("--index")
            .arg(workspace.index())
            .output()
            .unwrap();
        assert!(
            rebuild.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&rebuild.stderr)
        );
        assert_verifies(&workspace.index(), &format!("{case}: after rebuild"));
        assert_eq!(
            workspace.search("易地扶贫搬迁", &[])[0].heading,
            "易地扶贫搬迁工程",
            "{case}"
        );
    }
}

#[test]
fn segment_count_stays_bounded_over_many_small_ingests() {
    let workspace = Workspace::new();
    for number in 0..40 {
        workspace.write(
            &format!("页{number:03}.txt"),
            page(&format!("页{number}"), 0, 1),
        );
        ingest(
            &crate::util::ingest_options(workspace.corpus(), workspace.index()),
            &mut |_| {},
        )
        .unwrap();
    }
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace.index().join("meta.json")).unwrap(),
    )
    .unwrap();
    let segments = meta["segments"].as_array().unwrap().len();
    assert!(segments <= 12, "{segments} segments after 40 ingests");
    assert_eq!(contents(&workspace.index()).len(), 40);
}

#[derive(Debug, Clone)]
enum Operation {
    Add(u8, u8),
    Change(u8, u8),
    Remove(u8),
    Rename(u8, u8),
    Touch(u8),
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        (0u8..6, 0u8..4).prop_map(|(f, c)| Operation::Add(f, c)),
        (0u8..6, 0u8..4).prop_map(|(f, c)| Operation::Change(f, c)),
        (0u8..6).prop_map(Operation::Remove),
        (0u8..6, 0u8..6).prop_map(|(a, b)| Operation::Rename(a, b)),
        (0u8..6).prop_map(Operation::Touch),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// After any sequence of adds, changes, removals, renames and touches, each followed by
    /// an ingest, the index holds exactly the model's entries.
    #[test]
    fn index_follows_a_model_of_the_corpus(operations in prop::collection::vec(operation(), 1..7)) {
        let workspace = Workspace::new();
        let mut model: BTreeMap<String, u8> = BTreeMap::new();
        let mut clock = SystemTime::now();
        let name = |file: u8| format!("f{file}.txt");
        let write = |file: &str, content: u8, clock: &mut SystemTime| {
            workspace.write(file, page(&format!("内容{content}"), content as usize, 1 + content as usize % 3));
            *clock += Duration::from_secs(2);
            let handle = std::fs::File::options().write(true).open(workspace.corpus().join(file)).unwrap();
            handle.set_modified(*clock).unwrap();
        };
        for operation in operations {
            match operation {
                Operation::Add(file, content) | Operation::Change(file, content) => {
                    write(&name(file), content, &mut clock);
                    model.insert(name(file), content);
                }
                Operation::Remove(file) => {
                    let _ = std::fs::remove_file(workspace.corpus().join(name(file)));
                    model.remove(&name(file));
                }
                Operation::Rename(from, to) => {
                    if let Some(content) = model.remove(&name(from)) {
                        std::fs::rename(workspace.corpus().join(name(from)), workspace.corpus().join(name(to))).unwrap();
                        model.insert(name(to), content);
                    }
                }
                Operation::Touch(file) => {
                    if model.contains_key(&name(file)) {
                        clock += Duration::from_secs(2);
                        let handle = std::fs::File::options().write(true).open(workspace.corpus().join(name(file))).unwrap();
                        handle.set_modified(clock).unwrap();
                    }
                }
            }
            ingest(&crate::util::ingest_options(workspace.corpus(), workspace.index()), &mut |w| panic!("{w:?}")).unwrap();
            let held: BTreeSet<(String, String)> = contents(&workspace.index())
                .into_values()
                .map(|(path, heading, _)| (path, heading))
                .collect();
            let expected: BTreeSet<(String, String)> = model
                .iter()
                .flat_map(|(path, &content)| {
                    (0..1 + content as usize % 3).map(move |n| (path.clone(), format!("内容{content}条目{n}")))
                })
                .collect();
            prop_assert_eq!(held, expected);
        }
    }
}
