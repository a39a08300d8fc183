//! The practices table: each practice's place in the locality hierarchy.

use polars::prelude::PlHashMap as HashMap;

use super::accounting::{RejectReason, Tally};
use super::source::{ScanError, SourceError, TableSource};
use super::table::TableKind;

/// The levels a practice rolls up through, smallest first.
pub const LEVELS: [&str; 6] = ["practice", "pcn", "sub_icb", "icb", "region", "national"];

/// The code used for a locality that the practices table does not give.
pub const UNKNOWN: &str = "UNKNOWN";

/// One practice and its localities: `(code, name)` for each level of [`LEVELS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Practice {
    /// `(code, name)` at practice, PCN, sub-ICB, ICB, region and national level.
    pub units: [(String, String); 6],
    /// True when the practice was not in the practices table but was
    /// referenced by a registration: kept under the "UNKNOWN" localities.
    pub unlisted: bool,
}

impl Practice {
    /// The practice code.
    pub fn code(&self) -> &str {
        &self.units[0].0
    }

    fn unlisted(code: &str) -> Practice {
        let mut units = unit_array(code, code);
        units[0].1 = format!("{code} (not in the practices table)");
        Practice {
            units,
            unlisted: true,
        }
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
    pub fn unit(self) -> (String, String) {
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

/// A practice's units with only its own code and name known: the
/// localities are [`UNKNOWN`], the top level that of [`Scope::default`]
/// until [`Practices::set_scope`] says otherwise.
pub fn unit_array(code: &str, name: &str) -> [(String, String); 6] {
    let unknown = || (UNKNOWN.to_string(), "Unknown".to_string());
    [
        (code.to_string(), name.to_string()),
        unknown(),
        unknown(),
        unknown(),
        unknown(),
        Scope::default().unit(),
    ]
}

/// All practices, indexed densely.
#[derive(Clone, Debug, Default)]
pub struct Practices {
    /// Practices in the order first seen.
    pub list: Vec<Practice>,
    index: HashMap<String, u32>,
}

impl Practices {
    /// The dense index of a practice code, adding it as unlisted when the
    /// practices table did not have it.
    pub fn index_or_add(&mut self, code: &str) -> u32 {
        if let Some(&i) = self.index.get(code) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(Practice::unlisted(code));
        self.index.insert(code.to_string(), i);
        i
    }

    /// The dense index of a listed (or added) practice.
    pub fn get(&self, code: &str) -> Option<u32> {
        self.index.get(code).copied()
    }

    /// Adds a listed practice with its localities (`(code, name)` at each
    /// level of [`LEVELS`]); false when the code is already there.
    pub fn insert(&mut self, units: [(String, String); 6]) -> bool {
        if self.index.contains_key(&units[0].0) {
            return false;
        }
        self.index
            .insert(units[0].0.clone(), self.list.len() as u32);
        self.list.push(Practice {
            units,
            unlisted: false,
        });
        true
    }

    /// Adds a practice as a partial audit recorded it (listed or not);
    /// false when the code is already there.
    pub fn insert_entry(&mut self, units: [(String, String); 6], unlisted: bool) -> bool {
        let added = self.insert(units);
        if added {
            if let Some(p) = self.list.last_mut() {
                p.unlisted = unlisted;
            }
        }
        added
    }

    /// Names every practice's top level after the run's scope.
    pub fn set_scope(&mut self, scope: Scope) {
        let top = scope.unit();
        for p in &mut self.list {
            p.units[5] = top.clone();
        }
    }

    /// How many practices were referenced but not listed.
    pub fn unlisted_count(&self) -> usize {
        self.list.iter().filter(|p| p.unlisted).count()
    }

    /// Reads the practices table.
    pub fn load(source: &TableSource, tally: &mut Tally) -> Result<Practices, SourceError> {
        let cols: Vec<&'static str> = TableKind::Practices
            .columns()
            .iter()
            .map(|c| c.name)
            .collect();
        let mut out = Practices::default();
        let result = source.for_each_batch(&cols, super::DEFAULT_BATCH_ROWS, |b| {
            for i in 0..b.len() {
                let Some(code) = b.get(0, i) else {
                    tally.rejected(
                        TableKind::Practices,
                        b.location(i),
                        "practice_code",
                        None,
                        RejectReason::MissingValue,
                    );
                    continue;
                };
                if out.index.contains_key(code) {
                    tally.rejected(
                        TableKind::Practices,
                        b.location(i),
                        "practice_code",
                        Some(code),
                        RejectReason::DuplicatePractice,
                    );
                    continue;
                }
                let mut units = unit_array(code, b.get(1, i).unwrap_or(code));
                for (level, unit) in units.iter_mut().enumerate().take(5).skip(1) {
                    if let Some(c) = b.get(2 * level, i) {
                        let name = b.get(2 * level + 1, i).unwrap_or(c);
                        *unit = (c.to_string(), name.to_string());
                    }
                }
                out.index.insert(code.to_string(), out.list.len() as u32);
                out.list.push(Practice {
                    units,
                    unlisted: false,
                });
                tally.used();
            }
            Ok::<(), std::convert::Infallible>(())
        });
        tally.merge(result.map_err(ScanError::into_source)?);
        Ok(out)
    }
}
