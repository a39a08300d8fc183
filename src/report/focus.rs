//! `--focus`: a report page about one locality (or a few) against the
//! whole run. The tables stay complete; only `report.html` is focused,
//! as OpenPrescribing's organisation pages are: the locality's headline
//! against the top level, its practices highlighted over every practice
//! in the funnel plots (the limits stay those of the whole run), its rows
//! in the tables, and its place among its peers.

use std::collections::HashSet;

use crate::ingest::locality::Level;
use crate::ingest::practices::Practices;

/// The localities a page is about, resolved against the run's practices.
#[derive(Clone, Debug, Default)]
pub struct Focus {
    /// Each focused locality: its level, code and name, as asked.
    pub units: Vec<(Level, String, String)>,
    /// Every unit inside a focused locality, itself included, by level
    /// (indexed as [`Level`]) and code: its practices, and its PCNs,
    /// sub-ICBs … up to its level.
    inside: [HashSet<String>; 6],
}

/// A `--focus` code that names no locality of the run.
#[derive(Debug, thiserror::Error)]
#[error(
    "--focus {code}: no PCN, sub-ICB, ICB or region of the run has that code{hint} \
     (localities come from the practices table or --practices)"
)]
pub struct UnknownFocus {
    /// The code asked for.
    pub code: String,
    hint: String,
}

impl Focus {
    /// Finds each code among the localities of `practices`, smallest level
    /// first; an empty list gives `None` (the whole run's page).
    pub fn resolve(codes: &[String], practices: &Practices) -> Result<Option<Focus>, UnknownFocus> {
        if codes.is_empty() {
            return Ok(None);
        }
        let mut focus = Focus::default();
        for code in codes {
            let code = code.trim();
            let level = Level::LOCALITIES.into_iter().find(|&l| {
                practices
                    .list
                    .iter()
                    .any(|p| p.units[l].0.eq_ignore_ascii_case(code))
            });
            let Some(level) = level else {
                let hint = if practices.get(code).is_some() {
                    ": it is a practice; focus on its PCN or sub-ICB".to_string()
                } else {
                    String::new()
                };
                return Err(UnknownFocus {
                    code: code.to_string(),
                    hint,
                });
            };
            for p in &practices.list {
                let (unit_code, unit_name) = &p.units[level];
                if !unit_code.eq_ignore_ascii_case(code) {
                    continue;
                }
                if !focus
                    .units
                    .iter()
                    .any(|u| u.0 == level && &u.1 == unit_code)
                {
                    focus
                        .units
                        .push((level, unit_code.clone(), unit_name.clone()));
                }
                for l in Level::ALL.into_iter().filter(|l| *l <= level) {
                    focus.inside[l as usize].insert(p.units[l].0.clone());
                }
            }
        }
        Ok(Some(focus))
    }

    /// True when the unit lies inside a focused locality (or is one).
    pub fn holds(&self, level: Level, code: &str) -> bool {
        self.inside[level as usize].contains(code)
    }

    /// The focused localities in words: "ICB QHM North East and North Cumbria".
    pub fn describe(&self) -> String {
        self.units
            .iter()
            .map(|(l, c, n)| format!("{} {c} {n}", l.heading()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether a page shows a unit: every unit without a focus, else those
/// inside it and the top level.
pub(crate) fn shown(focus: Option<&Focus>, level: Level, code: &str) -> bool {
    level == Level::National || focus.is_none_or(|f| f.holds(level, code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::locality::Units;

    fn practice(code: &str, pcn: &str, icb: &str) -> Units {
        let mut u = Units::new(code, code);
        u[Level::Pcn] = (pcn.into(), format!("PCN {pcn}"));
        u[Level::SubIcb] = (format!("S{icb}"), "Sub".into());
        u[Level::Icb] = (icb.into(), format!("ICB {icb}"));
        u[Level::Region] = ("R1".into(), "Region".into());
        u
    }

    fn practices() -> Practices {
        let mut p = Practices::default();
        p.insert(practice("A1", "P1", "I1"));
        p.insert(practice("A2", "P2", "I1"));
        p.insert(practice("B1", "P3", "I2"));
        p
    }

    #[test]
    fn an_icb_holds_its_practices_pcns_and_sub_icbs_only() {
        let f = Focus::resolve(&["i1".into()], &practices())
            .unwrap()
            .unwrap();
        assert_eq!(f.units, vec![(Level::Icb, "I1".into(), "ICB I1".into())]);
        for (l, c) in [
            (Level::Practice, "A1"),
            (Level::Practice, "A2"),
            (Level::Pcn, "P2"),
            (Level::SubIcb, "SI1"),
            (Level::Icb, "I1"),
        ] {
            assert!(f.holds(l, c), "{l} {c}");
        }
        for (l, c) in [
            (Level::Practice, "B1"),
            (Level::Pcn, "P3"),
            (Level::Icb, "I2"),
            (Level::Region, "R1"),
        ] {
            assert!(!f.holds(l, c), "{l} {c}");
        }
        assert!(shown(Some(&f), Level::National, "ALL"));
        assert!(!shown(Some(&f), Level::Region, "R1"));
        assert!(shown(None, Level::Practice, "B1"));
    }

    #[test]
    fn several_codes_add_up_and_unknown_ones_are_named() {
        let f = Focus::resolve(&["P1".into(), "P3".into()], &practices())
            .unwrap()
            .unwrap();
        assert!(f.holds(Level::Practice, "A1") && f.holds(Level::Practice, "B1"));
        assert!(!f.holds(Level::Practice, "A2"));
        assert_eq!(f.describe(), "PCN P1 PCN P1, PCN P3 PCN P3");
        let e = Focus::resolve(&["A1".into()], &practices()).unwrap_err();
        assert!(e.to_string().contains("it is a practice"), "{e}");
        let e = Focus::resolve(&["ZZZ".into()], &practices()).unwrap_err();
        assert!(e.to_string().starts_with("--focus ZZZ: no PCN"), "{e}");
        assert!(Focus::resolve(&[], &practices()).unwrap().is_none());
    }
}
