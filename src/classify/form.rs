//! The form (route) of a medicine, read from its dm+d or BNF name.
//!
//! Some STOMP rules turn on the form, not the drug: rectal diazepam and
//! buccal midazolam are seizure rescue, not anxiolytic use; a haloperidol
//! injection in primary care is an anticipatory end-of-life medicine, not an
//! antipsychotic course; a depot is held for months by one issue. dm+d names
//! follow one convention (`<drug> <strength> <form>`, e.g. "Diazepam
//! 10mg/2.5ml rectal solution tube", "Midazolam 10mg/2ml oromucosal solution
//! pre-filled oral syringes"), and since 2020 BNF presentation names are the
//! dm+d names, so the same words identify the form in both.

use serde::Serialize;

/// How a medicine is given, as far as the audit's rules need to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// By mouth, or any route the rules do not single out (the default).
    Oral,
    /// A short-acting injection or infusion.
    Injection,
    /// A long-acting (depot) injection: BNF 4.2.2, or an injection named
    /// prolonged-release, decanoate, palmitate or pamoate, or a suspension
    /// for injection (how dm+d names the antipsychotic depots).
    Depot,
    /// Rectal: solutions, tubes, suppositories, enemas.
    Rectal,
    /// Oromucosal or buccal.
    Oromucosal,
}

impl Form {
    /// Every form, in the order the spec lists them.
    pub const ALL: [Form; 5] = [
        Form::Oral,
        Form::Injection,
        Form::Depot,
        Form::Rectal,
        Form::Oromucosal,
    ];

    /// The form's name in the spec (`forms = [...]`).
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Oral => "oral",
            Form::Injection => "injection",
            Form::Depot => "depot",
            Form::Rectal => "rectal",
            Form::Oromucosal => "oromucosal",
        }
    }

    /// The form named in a spec, if it is one.
    pub fn parse(s: &str) -> Option<Form> {
        Form::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The form of a product from its name and, when known, its BNF code
    /// (BNF 4.2.2 is the depot antipsychotics).
    pub fn of(name: &str, bnf: Option<&str>) -> Form {
        if bnf.is_some_and(|b| b.starts_with("0402020")) {
            return Form::Depot;
        }
        let n = name.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
        if has(&["rectal", "suppositor", "enema", "rectube"]) {
            Form::Rectal
        } else if has(&["oromucosal", "oromuc ", "buccal"]) {
            Form::Oromucosal
        } else if has(&["injection", "infusion", " inj", "for inj"]) {
            if has(&[
                "prolonged-release",
                "extended-release",
                "decanoate",
                "palmitate",
                "pamoate",
                "depot",
                "suspension for injection",
            ]) {
                Form::Depot
            } else {
                Form::Injection
            }
        } else {
            Form::Oral
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_from_dmd_and_bnf_names() {
        let cases = [
            ("Diazepam 10mg/2.5ml rectal solution tube", Form::Rectal),
            ("Stesolid 5mg rectal tube (Accord) (AMP)", Form::Rectal),
            ("Diazepam 10mg RecTubes", Form::Rectal),
            ("Carbamazepine 125mg suppositories", Form::Rectal),
            (
                "Buccolam 10mg/2ml oromucosal solution pre-filled oral syringes",
                Form::Oromucosal,
            ),
            ("Epistatus 10mg/1ml oromucosal soln pre-filled oral syringes", Form::Oromucosal),
            ("Lorazepam 4mg/1ml solution for injection ampoules", Form::Injection),
            ("Diazemuls 10mg/2ml emulsion for injection ampoules", Form::Injection),
            ("Zuclopenthixol acetate 50mg/1ml inj ampoules", Form::Injection),
            (
                "Haloperidol decanoate 50mg/1ml solution for injection ampoules",
                Form::Depot,
            ),
            (
                "Byannli 700mg/3.5ml prolonged-release suspension for injection pre-filled syringes",
                Form::Depot,
            ),
            ("Diazepam 2mg tablets", Form::Oral),
            ("Midazolam 10mg/5ml oral liquid", Form::Oral),
            ("Quetiapine 300mg modified-release tablets", Form::Oral),
        ];
        for (name, want) in cases {
            assert_eq!(Form::of(name, None), want, "{name}");
        }
        // A depot by its BNF section even when the name does not say so.
        assert_eq!(
            Form::of(
                "Aripiprazole 400mg powder and solvent for suspension for injection vials",
                Some("0402020ADAAABAB")
            ),
            Form::Depot
        );
        assert_eq!(
            Form::of(
                "Aripiprazole 9.75mg/1.3ml solution for injection vials",
                None
            ),
            Form::Injection
        );
        assert_eq!(
            Form::of(
                "Olanzapine 210mg powder and solvent for suspension for injection vials",
                None
            ),
            Form::Depot
        );
    }

    #[test]
    fn names_round_trip() {
        for f in Form::ALL {
            assert_eq!(Form::parse(f.as_str()), Some(f));
        }
        assert_eq!(Form::parse("buccal"), None);
    }
}
