//! Helpers shared by the CLI tests.

/// The `.lvs` files under examples/, sorted.
pub fn examples() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lvs"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
