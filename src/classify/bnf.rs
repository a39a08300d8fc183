//! BNF prefix filters: `0402010` includes a BNF sub-paragraph, `~0401010AD`
//! excludes a chemical, as OpenPrescribing's measure definitions write them.
//!
//! BNF structure: chapter 2 + section 2 + paragraph 2 + sub-paragraph 1 = 7
//! characters; chemical = 9; presentation = 15.

/// Length of a BNF chemical substance code.
pub const CHEMICAL_LEN: usize = 9;

/// A set of include and exclude BNF prefixes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BnfFilter {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl BnfFilter {
    /// Builds a filter from prefixes; a leading `~` marks an exclusion.
    /// Each prefix must be 1–15 letters or digits.
    pub fn parse(prefixes: &[String]) -> Result<BnfFilter, String> {
        let mut f = BnfFilter::default();
        for p in prefixes {
            let (list, code) = match p.strip_prefix('~') {
                Some(rest) => (&mut f.exclude, rest),
                None => (&mut f.include, p.as_str()),
            };
            if !super::codelist::is_bnf_code(code) {
                return Err(format!(
                    "'{p}' is not a BNF prefix (1 to 15 letters or digits, '~' in front to exclude)"
                ));
            }
            list.push(code.to_string());
        }
        Ok(f)
    }

    /// True when the filter has no include prefix (it matches nothing).
    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
    }

    /// True when `bnf` starts with an included prefix and no excluded one.
    pub fn matches(&self, bnf: &str) -> bool {
        self.include.iter().any(|p| bnf.starts_with(p.as_str()))
            && !self.exclude.iter().any(|p| bnf.starts_with(p.as_str()))
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
        assert!(BnfFilter::parse(&["04 02".to_string()]).is_err());
        assert!(BnfFilter::parse(&["~".to_string()]).is_err());
    }
}
