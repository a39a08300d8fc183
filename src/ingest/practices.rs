//! The practices table: each practice's place in the locality hierarchy.

use polars::prelude::PlHashMap as HashMap;

use super::accounting::{RejectReason, Tally};
use super::locality::{Level, Scope, Units};
use super::source::{ScanError, SourceError, TableSource};
use super::table::TableKind;

/// One practice and its units at every level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Practice {
    /// Its own code and name, and those of its localities.
    pub units: Units,
    /// True when the practice was not in the practices table but was
    /// referenced by a registration: kept under the "UNKNOWN" localities.
    pub unlisted: bool,
}

impl Practice {
    /// The practice code.
    pub fn code(&self) -> &str {
        &self.units[Level::Practice].0
    }

    fn unlisted(code: &str) -> Practice {
        let mut units = Units::new(code, code);
        units[Level::Practice].1 = format!("{code} (not in the practices table)");
        Practice {
            units,
            unlisted: true,
        }
    }
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
    pub(crate) fn index_or_add(&mut self, code: &str) -> u32 {
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

    /// Adds a listed practice with its localities; false when the code is
    /// already there.
    pub(crate) fn insert(&mut self, units: Units) -> bool {
        let code = &units[Level::Practice].0;
        if self.index.contains_key(code) {
            return false;
        }
        self.index.insert(code.clone(), self.list.len() as u32);
        self.list.push(Practice {
            units,
            unlisted: false,
        });
        true
    }

    /// Adds a practice as a partial audit recorded it (listed or not);
    /// false when the code is already there.
    pub(crate) fn insert_entry(&mut self, units: Units, unlisted: bool) -> bool {
        let added = self.insert(units);
        if added {
            if let Some(p) = self.list.last_mut() {
                p.unlisted = unlisted;
            }
        }
        added
    }

    /// Names every practice's top level after the run's scope.
    pub(crate) fn set_scope(&mut self, scope: Scope) {
        let top = scope.unit();
        for p in &mut self.list {
            p.units[Level::National] = top.clone();
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
                let mut units = Units::new(code, b.get(1, i).unwrap_or(code));
                for level in Level::LOCALITIES {
                    // Columns: code and name per level, practice first.
                    let column = 2 * level as usize;
                    if let Some(c) = b.get(column, i) {
                        let name = b.get(column + 1, i).unwrap_or(c);
                        units[level] = (c.to_string(), name.to_string());
                    }
                }
                // New: the duplicate was refused above.
                out.insert(units);
                tally.used();
            }
            Ok::<(), std::convert::Infallible>(())
        });
        tally.merge(result.map_err(ScanError::into_source)?);
        Ok(out)
    }
}
