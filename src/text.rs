//! Small helpers for values read as text.

/// `s` without surrounding white space. Most values have none, which two
/// byte checks show without the Unicode-aware scan of `str::trim`; the
/// answer is always the same as `str::trim`'s.
pub fn trimmed(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_as_str_trim_does() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\n",
            "a b",
            "\u{a0}x\u{a0}",
            "x\u{2003}",
            "é",
            " é ",
        ] {
            assert_eq!(trimmed(s), s.trim(), "{s:?}");
        }
    }
}
