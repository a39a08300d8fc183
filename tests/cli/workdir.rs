//! A scratch extract folder and a runner for the real binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A hand-built extract, written as CSV into a temporary folder.
pub struct Workdir {
    dir: tempfile::TempDir,
    pub patients: Vec<String>,
    pub registrations: Vec<String>,
    pub medications: Vec<String>,
    pub events: Vec<String>,
    pub practices: Vec<String>,
    /// Whether medications carry a `drug_name` column.
    named: bool,
}

pub const BIN: &str = env!("CARGO_BIN_EXE_stomp-audit");

/// On learning disability register (LD_COD).
pub const LD: &str = "416075005";

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
            patients: vec![],
            registrations: vec![],
            medications: vec![],
            events: vec![],
            practices: vec![
                "A00001,Test Surgery,PCN001,Test PCN,01A,Test sub-ICB,QAA,Test ICB,Y01,Test Region"
                    .into(),
            ],
            named: false,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn extract(&self) -> PathBuf {
        self.dir.path().join("extract")
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// A patient registered at A00001 since 2010 and alive.
    pub fn patient(&mut self, id: &str) -> &mut Self {
        self.patient_full(id, "1980-05-01", "F", "");
        self.reg(id, "A00001", "2010-01-01", "")
    }

    /// A patient registered at A00001 since 2010, on the LD register since 2015.
    pub fn ld(&mut self, id: &str) -> &mut Self {
        self.patient(id);
        self.event(id, "2015-01-01", LD)
    }

    pub fn patient_full(&mut self, id: &str, dob: &str, sex: &str, dod: &str) -> &mut Self {
        self.patients.push(format!("{id},{dob},{sex},{dod}"));
        self
    }

    pub fn reg(&mut self, id: &str, practice: &str, start: &str, end: &str) -> &mut Self {
        self.registrations
            .push(format!("{id},{practice},{start},{end}"));
        self
    }

    pub fn med(&mut self, id: &str, date: &str, dmd: &str, bnf: &str) -> &mut Self {
        self.medications
            .push(format!("{id},{date},{dmd},{bnf},28,"));
        self
    }

    /// A dm+d-only issue with its quantity and dosage instruction.
    pub fn med_dose(
        &mut self,
        id: &str,
        date: &str,
        dmd: &str,
        quantity: &str,
        text: &str,
    ) -> &mut Self {
        self.medications.push(format!(
            "{id},{date},{dmd},,{quantity},\"{}\"",
            text.replace('"', "\"\"")
        ));
        self
    }

    /// A dm+d-only issue with the drug's name, as EMIS and SystmOne exports
    /// carry it: the medications table then gets a `drug_name` column.
    pub fn med_named(&mut self, id: &str, date: &str, dmd: &str, name: &str) -> &mut Self {
        self.named = true;
        self.medications.push(format!(
            "{id},{date},{dmd},,28,,\"{}\"",
            name.replace('"', "\"\"")
        ));
        self
    }

    pub fn event(&mut self, id: &str, date: &str, code: &str) -> &mut Self {
        self.events.push(format!("{id},{date},{code},"));
        self
    }

    pub fn write(&self) {
        let dir = self.extract();
        std::fs::create_dir_all(&dir).expect("extract dir");
        let tables: [(&str, &str, &Vec<String>); 5] = [
            ("patients", "patient_id,date_of_birth,sex,date_of_death", &self.patients),
            ("registrations", "patient_id,practice_code,start_date,end_date", &self.registrations),
            (
                "medications",
                if self.named {
                    "patient_id,date,dmd_code,bnf_code,quantity,dose_text,drug_name"
                } else {
                    "patient_id,date,dmd_code,bnf_code,quantity,dose_text"
                },
                &self.medications,
            ),
            ("clinical_events", "patient_id,date,snomedct_code,numeric_value", &self.events),
            (
                "practices",
                "practice_code,practice_name,pcn_code,pcn_name,sub_icb_code,sub_icb_name,icb_code,icb_name,region_code,region_name",
                &self.practices,
            ),
        ];
        for (name, header, rows) in tables {
            let mut text = format!("{header}\n");
            for r in rows {
                text.push_str(r);
                // Issues without a name get an empty drug_name field.
                if name == "medications" && self.named && !r.ends_with('"') {
                    text.push(',');
                }
                text.push('\n');
            }
            std::fs::write(dir.join(format!("{name}.csv")), text).expect("write table");
        }
    }

    /// Writes the extract and runs `audit` on it with the given extra arguments.
    pub fn audit(&self, extra: &[&str]) -> Output {
        self.write();
        let mut cmd = Command::new(BIN);
        cmd.arg("audit")
            .arg(self.extract())
            .arg("--out")
            .arg(self.out())
            .args(extra);
        cmd.output().expect("run stomp-audit")
    }

    pub fn read_out(&self, file: &str) -> String {
        std::fs::read_to_string(self.out().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }
}

/// Runs the binary with arguments.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run stomp-audit")
}

/// Asserts success and returns stdout.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Splits one CSV line, honouring double quotes.
pub fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// A CSV file as rows of column -> value.
pub fn parse_csv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header = split_csv(lines.next().unwrap_or(""));
    lines
        .map(|l| header.iter().cloned().zip(split_csv(l)).collect())
        .collect()
}

/// (numerator, denominator) of indicators.csv by (indicator, level, unit).
pub fn counts(indicators_csv: &str) -> BTreeMap<(String, String, String), (u64, u64)> {
    parse_csv(indicators_csv)
        .into_iter()
        .map(|r| {
            (
                (
                    r["indicator_id"].clone(),
                    r["level"].clone(),
                    r["unit_code"].clone(),
                ),
                (
                    r["numerator"].parse().unwrap(),
                    r["denominator"].parse().unwrap(),
                ),
            )
        })
        .collect()
}

/// The national row of an indicator on a date, from parsed indicators.csv.
pub fn national<'a>(
    rows: &'a [BTreeMap<String, String>],
    date: &str,
    id: &str,
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["index_date"] == date && r["indicator_id"] == id && r["level"] == "national")
        .unwrap_or_else(|| panic!("no national row for {id} on {date}"))
}

/// (numerator, denominator) of an indicator at the top level ("ALL", the
/// whole extract) in an indicators.csv.
pub fn national_counts(indicators_csv: &str, id: &str) -> (u64, u64) {
    counts(indicators_csv)[&(id.to_string(), "national".to_string(), "ALL".to_string())]
}
