//! The levels of the NHS hierarchy a practice rolls up through, and a
//! practice's unit at each of them.

use std::fmt;
use std::ops::{Index, IndexMut};

/// The code used for a locality that the inputs do not give.
pub const UNKNOWN: &str = "UNKNOWN";

/// A level of the hierarchy, smallest first. Outputs name it by
/// [`Level::as_str`], the `level` column of every table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// A GP practice.
    Practice,
    /// A primary care network.
    Pcn,
    /// A sub-ICB location (formerly a CCG).
    SubIcb,
    /// An integrated care board.
    Icb,
    /// An NHS England region.
    Region,
    /// The top level: England, or all practices in the extract (see [`Scope`]).
    National,
}

impl Level {
    /// Every level, smallest first.
    pub const ALL: [Level; 6] = [
        Level::Practice,
        Level::Pcn,
        Level::SubIcb,
        Level::Icb,
        Level::Region,
        Level::National,
    ];

    /// The levels between a practice and the top.
    pub(crate) const LOCALITIES: [Level; 4] =
        [Level::Pcn, Level::SubIcb, Level::Icb, Level::Region];

    /// The name in the `level` column of the output tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Practice => "practice",
            Level::Pcn => "pcn",
            Level::SubIcb => "sub_icb",
            Level::Icb => "icb",
            Level::Region => "region",
            Level::National => "national",
        }
    }

    /// A heading for the level's table in a report: "PCN", "SUB-ICB", ….
    pub(crate) fn heading(self) -> String {
        self.as_str().replace('_', "-").to_uppercase()
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unit of the hierarchy: its code and its name.
pub(crate) type Unit = (String, String);

/// A practice's unit at every level. Localities the inputs do not give are
/// [`UNKNOWN`]; the top level is named after the run's [`Scope`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Units([Unit; 6]);

impl Units {
    /// A practice's units with only its own code and name known: the
    /// localities are [`UNKNOWN`], the top level that of [`Scope::default`].
    pub fn new(code: &str, name: &str) -> Units {
        let unknown = || (UNKNOWN.to_string(), "Unknown".to_string());
        Units([
            (code.to_string(), name.to_string()),
            unknown(),
            unknown(),
            unknown(),
            unknown(),
            Scope::default().unit(),
        ])
    }

    /// The units from smallest to the top, as a partial audit stores them;
    /// `None` unless there is one per level.
    pub(crate) fn from_vec(units: Vec<Unit>) -> Option<Units> {
        units.try_into().ok().map(Units)
    }

    /// The units from smallest to the top.
    pub(crate) fn as_slice(&self) -> &[Unit] {
        &self.0
    }
}

impl Index<Level> for Units {
    type Output = Unit;
    fn index(&self, level: Level) -> &Unit {
        &self.0[level as usize]
    }
}

impl IndexMut<Level> for Units {
    fn index_mut(&mut self, level: Level) -> &mut Unit {
        &mut self.0[level as usize]
    }
}

/// What the top ("national") level of a run stands for. Only a run over
/// every practice in England may call its total England: a PCN's or an
/// ICB's extract is "all practices in this extract", and a rate for it is
/// not a national rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// The extract covers England: the top level is `ENG` England.
    National,
    /// Any other extract (the default): the top level is `ALL`, all
    /// practices in this extract.
    #[default]
    Extract,
}

impl Scope {
    /// The top level's `(code, name)`.
    pub fn unit(self) -> Unit {
        let (code, name) = match self {
            Scope::National => ("ENG", "England"),
            Scope::Extract => ("ALL", "All practices in this extract"),
        };
        (code.to_string(), name.to_string())
    }

    /// The scope a `--national` flag declares.
    pub fn from_national(national: bool) -> Scope {
        if national {
            Scope::National
        } else {
            Scope::Extract
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_index_units_in_the_order_outputs_name_them() {
        let mut u = Units::new("A1", "Practice A");
        u[Level::Icb] = ("QWE".into(), "An ICB".into());
        let names: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(
            names,
            ["practice", "pcn", "sub_icb", "icb", "region", "national"]
        );
        assert_eq!(u[Level::Practice].0, "A1");
        assert_eq!(u.as_slice()[3].0, "QWE");
        assert_eq!(u[Level::National], Scope::Extract.unit());
        assert_eq!(Level::LOCALITIES, Level::ALL[1..5]);
        assert!(Units::from_vec(vec![("A".into(), "A".into()); 5]).is_none());
        assert_eq!(Units::from_vec(u.as_slice().to_vec()), Some(u));
    }
}
