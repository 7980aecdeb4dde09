//! The documentation a user reads first stays short, and every link in it leads somewhere: the README
//! at most 300 lines, and every relative link in the README, the guides under `docs/`, SECURITY.md,
//! CHANGELOG.md and the crates' READMEs names a file that exists (and, with `#anchor`, a heading in
//! it). External links are not fetched (CI has no network beyond the registries). The guides' Rust
//! examples compile as doctests (`tests/src/lib.rs`).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// Every Markdown file a user is pointed to.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut files: Vec<PathBuf> = [
        "README.md",
        "SECURITY.md",
        "CHANGELOG.md",
        "auth-core/README.md",
        "auth-actix/README.md",
        "auth-macros/README.md",
    ]
    .iter()
    .map(|file| root.join(file))
    .collect();
    let mut folders = vec![root.join("docs")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("docs/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                files.push(path);
            }
        }
    }
    files
}

/// The `(target)` of each `[text](target)` outside code blocks and code spans.
fn links(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Code spans may hold `[..](..)`-like text that is no link.
        let text: String = line
            .split('`')
            .enumerate()
            .filter(|(index, _)| index % 2 == 0)
            .map(|(_, part)| part)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = text.as_str();
        while let Some(open) = rest.find("](") {
            let after = &rest[open + 2..];
            let Some(close) = after.find(')') else { break };
            found.push(after[..close].trim().to_owned());
            rest = &after[close..];
        }
    }
    found
}

/// GitHub's anchor for a heading: lower-cased, punctuation but `-` and `_` dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> Vec<String> {
    let mut fenced = false;
    markdown
        .lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            !fenced && line.starts_with('#')
        })
        .map(|line| anchor(line.trim_start_matches('#')))
        .collect()
}

#[test]
fn the_readme_fits_on_a_few_screens() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines: keep it to what a user needs first and move the rest to docs/"
    );
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading_that_exist() {
    let mut broken = Vec::new();
    let documents = documents();
    assert!(documents.len() > 10, "the guides are found: {documents:?}");
    for document in &documents {
        let text = std::fs::read_to_string(document).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = link.split_once('#').unwrap_or((link.as_str(), ""));
            let target = if path.is_empty() {
                document.clone()
            } else {
                document.parent().unwrap().join(path)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", document.display()));
                continue;
            }
            if !fragment.is_empty() && target.is_file() {
                let target_text = std::fs::read_to_string(&target).unwrap();
                if !anchors(&target_text).iter().any(|a| a == fragment) {
                    broken.push(format!("{}: {link} (no such heading)", document.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_reader_finds_what_it_checks() {
    let text = "see [a](docs/a.md) and `[not](a link)`\n```\n[x](y)\n```\n[b](#c-d)";
    assert_eq!(links(text), ["docs/a.md", "#c-d"]);
    assert_eq!(
        anchor(" DPoP: tokens bound to the client's key"),
        "dpop-tokens-bound-to-the-clients-key"
    );
    assert_eq!(anchor("1. In the console"), "1-in-the-console");
}
