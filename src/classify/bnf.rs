//! BNF prefix filters: `0402010` includes a BNF sub-paragraph, `~0401010AD`
//! excludes a chemical, and `~0401020K0%AD` excludes the presentations of a
//! chemical whose code ends in `AD` (one `%` stands for any characters, as
//! in the SQL `LIKE` patterns of OpenPrescribing's measure definitions).
//!
//! BNF structure: chapter 2 + section 2 + paragraph 2 + sub-paragraph 1 = 7
//! characters; chemical = 9; presentation = 15.

/// Length of a BNF chemical substance code.
pub(crate) const CHEMICAL_LEN: usize = 9;

/// One BNF pattern: a prefix, and optionally (after `%`) a required ending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Pattern {
    prefix: String,
    suffix: Option<String>,
}

impl Pattern {
    fn parse(text: &str) -> Option<Pattern> {
        let valid = |s: &str| s.is_empty() || super::codelist::is_bnf_code(s);
        let (prefix, suffix) = match text.split_once('%') {
            Some((p, s)) if valid(s) && !s.is_empty() => (p, Some(s.to_string())),
            Some(_) => return None,
            None => (text, None),
        };
        let len = prefix.len() + suffix.as_ref().map_or(0, String::len);
        (super::codelist::is_bnf_code(prefix) && len <= 15).then(|| Pattern {
            prefix: prefix.to_string(),
            suffix,
        })
    }

    fn matches(&self, bnf: &str) -> bool {
        bnf.starts_with(self.prefix.as_str())
            && self.suffix.as_ref().is_none_or(|s| {
                bnf.len() >= self.prefix.len() + s.len() && bnf.ends_with(s.as_str())
            })
    }
}

/// A set of include and exclude BNF patterns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BnfFilter {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl BnfFilter {
    /// Builds a filter from patterns; a leading `~` marks an exclusion.
    /// Each pattern is 1–15 letters or digits, with at most one `%`
    /// between a prefix and an ending.
    pub fn parse(prefixes: &[String]) -> Result<BnfFilter, String> {
        let mut f = BnfFilter::default();
        for p in prefixes {
            let (list, code) = match p.strip_prefix('~') {
                Some(rest) => (&mut f.exclude, rest),
                None => (&mut f.include, p.as_str()),
            };
            let pattern = Pattern::parse(code).ok_or_else(|| {
                format!(
                    "'{p}' is not a BNF pattern (1 to 15 letters or digits, optionally one '%' between a prefix and an ending; '~' in front to exclude)"
                )
            })?;
            list.push(pattern);
        }
        Ok(f)
    }

    /// True when the filter has no include prefix (it matches nothing).
    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
    }

    /// True when `bnf` matches an included pattern and no excluded one.
    pub fn matches(&self, bnf: &str) -> bool {
        self.include.iter().any(|p| p.matches(bnf)) && !self.exclude.iter().any(|p| p.matches(bnf))
    }

    /// True when every code this filter can match starts with one of
    /// `other`'s include prefixes: a cheap check that one measure's
    /// numerator lies inside its denominator.
    pub fn within(&self, other: &BnfFilter) -> bool {
        self.include.iter().all(|p| {
            other
                .include
                .iter()
                .any(|o| o.suffix.is_none() && p.prefix.starts_with(o.prefix.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(p: &[&str]) -> BnfFilter {
        BnfFilter::parse(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn includes_and_excludes() {
        let f = filter(&["0401010", "0401020", "~0401010AD"]);
        assert!(f.matches("0401010Z0AAAAAA")); // zopiclone
        assert!(f.matches("0401020K0AAAHAH")); // diazepam
        assert!(!f.matches("0401010ADAAAAAA")); // melatonin
        assert!(!f.matches("0402010ADAAAAAA"));
    }

    #[test]
    fn antiemetic_prochlorperazine_is_not_an_antipsychotic() {
        let f = filter(&["0402010", "0402020"]);
        assert!(!f.matches("0406000T0AAAEAE"));
        assert!(f.matches("040201030AAAAAA"));
    }

    #[test]
    fn bad_prefixes_are_refused() {
        for bad in [
            "04 02",
            "~",
            "0401%",
            "%AD",
            "04%01%AD",
            "0401020K0AAAHA%AD",
        ] {
            assert!(BnfFilter::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_wildcard_excludes_presentations_by_their_ending() {
        // OpenPrescribing's bdzper1000 leaves out rectal diazepam tubes.
        let f = filter(&["0401", "~0401020K0%AD", "~0401010AC"]);
        assert!(!f.matches("0401020K0AAADAD")); // Diazepam_Soln 5mg/2.5ml Rectal Tube
        assert!(f.matches("0401020K0AAAHAH")); // Diazepam_Tab 2mg
        assert!(!f.matches("0401010ACAAAAAA")); // sodium oxybate
        assert!(f.matches("0401010Z0AAAAAA"));
    }

    #[test]
    fn a_numerator_within_its_denominator() {
        let depot = filter(&["0402020"]);
        let all = filter(&["0402010", "0402020"]);
        assert!(depot.within(&all));
        assert!(!all.within(&depot));
    }
}
