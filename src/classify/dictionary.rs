//! What a dm+d id is: its BNF code, from the dm+d lists of the spec.
//!
//! Real extracts code medicines in dm+d only, and a drug class follows the
//! BNF, so every dm+d id the lists know is given a BNF code, most trusted
//! source first:
//! 1. the list's own BNF column (OpenSAFELY's dm+d lists carry the BNF code
//!    dm+d maps each product to);
//! 2. the product's name, exactly as a BNF presentation is named (since
//!    2020 BNF presentation names are dm+d names, e.g. "Lamictal 25mg
//!    tablets" is 0408010H0BBAAAE) in the BNF names table;
//! 3. the name's leading words against the curated names table (brands and
//!    drugs that the BNF names table lacks), giving a chemical or paragraph;
//! 4. the name's leading words against the drug names of the BNF names
//!    table (the words before the strength), giving a chemical; where those
//!    words name several chemicals (flupentixol 3mg is an antipsychotic,
//!    500 micrograms an antidepressant), the chemical with a presentation of
//!    the same form wins, then the one with more presentations.
//!
//! A code whose description says "VMP previous to X" or "VMP subsequent to
//! X" (dm+d re-issued many VMP ids from 2023) takes X's BNF code. Every list
//! reports how its codes were resolved and which names were not, so a stale
//! or foreign list shows up in `validate` and `summary.json`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::codelist::{is_bnf_code, parse_sctid, Codelist, CodelistEntry};
use super::form::Form;

/// How a dm+d id got its BNF code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The list's BNF column.
    ListBnf,
    /// The product's name is a BNF presentation name.
    ExactName,
    /// The name starts with a curated drug or brand name.
    CuratedName,
    /// The name starts with the drug name of BNF presentations.
    NameStem,
    /// The id is a re-issued (previous or subsequent) id of a resolved VMP.
    ReissuedId,
}

impl Resolution {
    /// The resolution's name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::ListBnf => "list_bnf",
            Resolution::ExactName => "exact_name",
            Resolution::CuratedName => "curated_name",
            Resolution::NameStem => "name_stem",
            Resolution::ReissuedId => "reissued_id",
        }
    }
}

/// A product name as matched: lower case, without the dm+d type tag
/// ("(VMP)", "(AMP)", "(product)") or a trailing supplier in brackets.
pub(crate) fn normalise(term: &str) -> String {
    let mut t = term.trim().to_ascii_lowercase();
    for tag in ["(vmp)", "(amp)", "(product)"] {
        if let Some(rest) = t.strip_suffix(tag) {
            t = rest.trim_end().to_string();
        }
    }
    // Trailing bracketed groups: suppliers, "(Imported (Denmark))".
    while t.ends_with(')') {
        let mut depth = 0usize;
        let mut open = None;
        for (i, c) in t.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => {
                    depth -= 1;
                    if depth == 0 {
                        open = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        match open {
            Some(i) if i > 0 => t = t[..i].trim_end().to_string(),
            _ => break,
        }
    }
    t
}

/// The drug name of a normalised product name: the words before the first
/// that starts with a digit (the strength).
fn stem_words(name: &str) -> Vec<&str> {
    name.split_whitespace()
        .take_while(|w| !w.starts_with(|c: char| c.is_ascii_digit() || c == '.'))
        .collect()
}

/// One chemical a drug name may stand for.
#[derive(Clone, Debug)]
struct Candidate {
    chemical: String,
    forms: Vec<Form>,
    presentations: usize,
}

/// Resolves product names to BNF codes (steps 2 to 4 above).
#[derive(Clone, Debug, Default)]
pub struct NameResolver {
    exact: HashMap<String, String>,
    curated: HashMap<String, String>,
    stems: HashMap<String, Vec<Candidate>>,
    longest: usize,
}

impl NameResolver {
    /// Builds the resolver from the BNF names table (`bnf_code`, name) and
    /// the curated names (BNF code, lower-case drug or brand name).
    pub fn new(bnf_names: &[CodelistEntry], curated: &[CodelistEntry]) -> NameResolver {
        let mut r = NameResolver::default();
        let mut stems: BTreeMap<String, BTreeMap<String, Candidate>> = BTreeMap::new();
        for e in bnf_names.iter().filter(|e| e.code.len() >= 9) {
            let name = normalise(&e.term);
            // Several presentations can share a name: the lowest code wins.
            r.exact
                .entry(name.clone())
                .and_modify(|c| {
                    if e.code < *c {
                        c.clone_from(&e.code)
                    }
                })
                .or_insert_with(|| e.code.clone());
            let words = stem_words(&name);
            if words.is_empty() {
                continue;
            }
            let chemical = e.code[..9].to_string();
            let form = Form::of(&name, Some(&e.code));
            let c = stems
                .entry(words.join(" "))
                .or_default()
                .entry(chemical.clone())
                .or_insert(Candidate {
                    chemical,
                    forms: Vec::new(),
                    presentations: 0,
                });
            c.presentations += 1;
            if !c.forms.contains(&form) {
                c.forms.push(form);
            }
        }
        for (stem, cands) in stems {
            r.longest = r.longest.max(stem.split(' ').count());
            r.stems.insert(stem, cands.into_values().collect());
        }
        for e in curated {
            let name = e.term.trim().to_ascii_lowercase();
            r.longest = r.longest.max(name.split_whitespace().count());
            r.curated.insert(name, e.code.clone());
        }
        r
    }

    /// The BNF code a product name stands for, and how it was found.
    pub fn resolve(&self, term: &str) -> Option<(String, Resolution)> {
        let name = normalise(term);
        if let Some(code) = self.exact.get(&name) {
            return Some((code.clone(), Resolution::ExactName));
        }
        let words: Vec<&str> = name.split_whitespace().collect();
        let form = Form::of(&name, None);
        // Longest leading words first; curated names before BNF stems.
        for k in (1..=words.len().min(self.longest)).rev() {
            let lead = words[..k].join(" ");
            if let Some(code) = self.curated.get(&lead) {
                return Some((code.clone(), Resolution::CuratedName));
            }
        }
        let stem = stem_words(&name);
        for k in (1..=stem.len().min(self.longest)).rev() {
            if let Some(cands) = self.stems.get(&stem[..k].join(" ")) {
                let best = cands.iter().max_by(|a, b| {
                    (
                        a.forms.contains(&form),
                        a.presentations,
                        std::cmp::Reverse(&a.chemical),
                    )
                        .cmp(&(
                            b.forms.contains(&form),
                            b.presentations,
                            std::cmp::Reverse(&b.chemical),
                        ))
                })?;
                return Some((best.chemical.clone(), Resolution::NameStem));
            }
        }
        None
    }
}

/// What the dictionary knows of one dm+d id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DmdEntry {
    /// Its BNF code: a presentation (15 characters), a chemical (9) or a
    /// paragraph (7).
    pub bnf: String,
    /// Its description, without the dm+d type tag.
    pub name: String,
    /// How the BNF code was found.
    pub how: Resolution,
}

/// How the codes of one dm+d list were resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ListCoverage {
    /// The codelist's name in the spec.
    pub list: String,
    /// Its version.
    pub version: String,
    /// Valid dm+d ids in the list.
    pub codes: usize,
    /// Ids resolved, by how (each id counted under the best source any list gave it).
    pub(crate) resolved: BTreeMap<Resolution, usize>,
    /// Ids no source could resolve.
    pub unresolved: usize,
    /// The commonest first words of the unresolved names, with counts.
    pub unresolved_names: Vec<(String, usize)>,
}

/// dm+d id -> BNF code for every id of the dictionary lists.
#[derive(Clone, Debug, Default)]
pub(crate) struct DrugDictionary {
    /// The resolved ids.
    pub entries: HashMap<u64, DmdEntry>,
    /// Per list, in the order given.
    pub coverage: Vec<ListCoverage>,
}

/// The id a "VMP previous to X" or "VMP subsequent to X" description refers to.
fn reissued_from(term: &str) -> Option<u64> {
    let t = term.trim();
    ["VMP previous to ", "VMP subsequent to "]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .and_then(|rest| parse_sctid(rest.trim()))
}

fn display_name(term: &str) -> String {
    let mut t = term.trim();
    for tag in ["(VMP)", "(AMP)", "(product)"] {
        if let Some(rest) = t.strip_suffix(tag) {
            t = rest.trim_end();
        }
    }
    t.to_string()
}

impl DrugDictionary {
    /// Resolves every id of `lists`, most trusted source first (see the module doc).
    pub fn build(lists: &[&Codelist], names: &NameResolver) -> DrugDictionary {
        let mut entries: HashMap<u64, DmdEntry> = HashMap::new();
        let mut consider = |id: u64, entry: DmdEntry| match entries.get(&id) {
            Some(old) if old.how <= entry.how => {}
            _ => {
                entries.insert(id, entry);
            }
        };
        for list in lists {
            for e in &list.entries {
                let Some(id) = parse_sctid(&e.code) else {
                    continue;
                };
                let found = match e.bnf.as_deref().filter(|b| is_bnf_code(b)) {
                    Some(b) => Some((b.to_string(), Resolution::ListBnf)),
                    None => names.resolve(&e.term),
                };
                if let Some((bnf, how)) = found {
                    consider(
                        id,
                        DmdEntry {
                            bnf,
                            name: display_name(&e.term),
                            how,
                        },
                    );
                }
            }
        }
        // Re-issued ids take the resolution of the id they replace (or of
        // their replacement), once every named id is known.
        for list in lists {
            for e in &list.entries {
                let (Some(id), Some(other)) = (parse_sctid(&e.code), reissued_from(&e.term)) else {
                    continue;
                };
                if entries.contains_key(&id) {
                    continue;
                }
                if let Some(o) = entries.get(&other).cloned() {
                    entries.insert(
                        id,
                        DmdEntry {
                            bnf: o.bnf,
                            name: o.name,
                            how: Resolution::ReissuedId,
                        },
                    );
                }
            }
        }
        let coverage = lists
            .iter()
            .map(|list| {
                let mut c = ListCoverage {
                    list: list.name.clone(),
                    version: list.version.clone(),
                    ..ListCoverage::default()
                };
                let mut missing: BTreeMap<String, usize> = BTreeMap::new();
                let mut seen = std::collections::HashSet::new();
                for e in &list.entries {
                    let Some(id) = parse_sctid(&e.code) else {
                        continue;
                    };
                    if !seen.insert(id) {
                        continue;
                    }
                    c.codes += 1;
                    match entries.get(&id) {
                        Some(d) => *c.resolved.entry(d.how).or_default() += 1,
                        None => {
                            c.unresolved += 1;
                            let first = normalise(&e.term)
                                .split_whitespace()
                                .next()
                                .unwrap_or("")
                                .to_string();
                            *missing.entry(first).or_default() += 1;
                        }
                    }
                }
                let mut names: Vec<(String, usize)> = missing.into_iter().collect();
                names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                names.truncate(10);
                c.unresolved_names = names;
                c
            })
            .collect();
        DrugDictionary { entries, coverage }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &str, term: &str) -> CodelistEntry {
        CodelistEntry {
            code: code.into(),
            term: term.into(),
            bnf: None,
        }
    }

    fn bnf_names() -> Vec<CodelistEntry> {
        vec![
            entry("0408010H0AAAAAA", "Lamotrigine 25mg tablets"),
            entry("0408010H0BBAAAA", "Lamictal 25mg tablets"),
            entry("0402010H0AAAAAA", "Flupentixol 3mg tablets"),
            entry("0403040F0AAAAAA", "Flupentixol 500microgram tablets"),
            entry("0403040F0AAABAB", "Flupentixol 1mg tablets"),
            entry(
                "0402020G0AAAAAA",
                "Flupentixol decanoate 20mg/1ml solution for injection ampoules",
            ),
            entry("0402010J0AAAAAA", "Haloperidol 5mg tablets"),
            entry(
                "0402010J0AAACAC",
                "Haloperidol 5mg/1ml solution for injection ampoules",
            ),
            entry(
                "0402020T0AAAAAA",
                "Haloperidol decanoate 50mg/1ml solution for injection ampoules",
            ),
            entry("0401010ADAAAAAA", "Melatonin 2mg modified-release tablets"),
        ]
    }

    #[test]
    fn names_are_normalised_for_matching() {
        assert_eq!(
            normalise("Lamictal 25mg tablets (GlaxoSmithKline UK Ltd) (AMP)"),
            "lamictal 25mg tablets"
        );
        assert_eq!(
            normalise("Melatonin 3mg tablets (Imported (Denmark))"),
            "melatonin 3mg tablets"
        );
        assert_eq!(
            normalise("Quetiapine 50mg tablets (product)"),
            "quetiapine 50mg tablets"
        );
    }

    #[test]
    fn exact_names_then_curated_then_stems() {
        let curated = vec![
            entry("0408010H0", "lamictal"),
            entry("0401020", "meprobamate"),
        ];
        let r = NameResolver::new(&bnf_names(), &curated);
        // The AMP's name without its supplier is a BNF presentation name.
        assert_eq!(
            r.resolve("Lamictal 25mg tablets (GlaxoSmithKline UK Ltd) (AMP)"),
            Some(("0408010H0BBAAAA".into(), Resolution::ExactName))
        );
        // A strength the table lacks: the curated brand, then the stem.
        assert_eq!(
            r.resolve("Lamictal 300mg tablets (GSK) (AMP)"),
            Some(("0408010H0".into(), Resolution::CuratedName))
        );
        assert_eq!(
            r.resolve("Lamotrigine 300mg tablets"),
            Some(("0408010H0".into(), Resolution::NameStem))
        );
        assert_eq!(
            r.resolve("Meprobamate 400mg tablets"),
            Some(("0401020".into(), Resolution::CuratedName))
        );
        assert_eq!(r.resolve("Paracetamol 500mg tablets"), None);
    }

    #[test]
    fn an_ambiguous_drug_name_prefers_the_same_form_then_more_presentations() {
        let r = NameResolver::new(&bnf_names(), &[]);
        // Flupentixol: two oral presentations are antidepressant (4.3.4), one antipsychotic.
        assert_eq!(
            r.resolve("Flupentixol 2mg tablets").map(|x| x.0),
            Some("0403040F0".into())
        );
        // Exact names keep the strength's own class.
        assert_eq!(
            r.resolve("Flupentixol 3mg tablets (Sandoz) (AMP)")
                .map(|x| x.0),
            Some("0402010H0AAAAAA".into())
        );
        // An injection of haloperidol is the short-acting chemical, a depot the depot one.
        assert_eq!(
            r.resolve("Haloperidol 10mg/2ml solution for injection ampoules")
                .map(|x| x.0),
            Some("0402010J0".into())
        );
        assert_eq!(
            r.resolve("Haloperidol decanoate 100mg/1ml solution for injection ampoules")
                .map(|x| x.0),
            Some("0402020T0".into())
        );
    }

    #[test]
    fn the_dictionary_prefers_a_lists_bnf_column_and_follows_reissued_ids() {
        let r = NameResolver::new(&bnf_names(), &[]);
        let with_bnf = Codelist {
            name: "fga".into(),
            source_name: "x".into(),
            version: "v".into(),
            sha256: String::new(),
            entries: vec![CodelistEntry {
                code: "321935002".into(),
                term: "Flupentixol 3mg tablets".into(),
                bnf: Some("0402010H0AAAAAA".into()),
            }],
        };
        let by_name = Codelist {
            name: "refset".into(),
            source_name: "y".into(),
            version: "v".into(),
            sha256: String::new(),
            entries: vec![
                entry("321935002", "Flupentixol 3mg tablets (VMP)"),
                entry("42130911000001102", "Lamotrigine 25mg tablets (VMP)"),
                entry("9999911000001100", "VMP previous to 42130911000001102"),
                entry("8888811000001100", "Paracetamol 500mg tablets (VMP)"),
            ],
        };
        let d = DrugDictionary::build(&[&by_name, &with_bnf], &r);
        assert_eq!(d.entries[&321935002].how, Resolution::ListBnf);
        assert_eq!(d.entries[&42130911000001102].bnf, "0408010H0AAAAAA");
        assert_eq!(
            d.entries[&42130911000001102].name,
            "Lamotrigine 25mg tablets"
        );
        assert_eq!(d.entries[&9999911000001100].how, Resolution::ReissuedId);
        assert_eq!(d.entries[&9999911000001100].bnf, "0408010H0AAAAAA");
        assert!(!d.entries.contains_key(&8888811000001100));
        let cov = &d.coverage[0];
        assert_eq!((cov.codes, cov.unresolved), (4, 1));
        assert_eq!(cov.unresolved_names, vec![("paracetamol".to_string(), 1)]);
        assert_eq!(cov.resolved[&Resolution::ListBnf], 1);
    }
}
