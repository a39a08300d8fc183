//! `stomp-audit codes`: every dm+d code the spec puts in a drug concept,
//! with the BNF code it was given, how, its form and its concepts, so a
//! pharmacist can check the classification and another tool can reuse it;
//! and what its dose is counted in (strength, BNF maximum, chlorpromazine
//! equivalent), so the products whose dose cannot be computed are listed.

use std::io::Write;
use std::path::PathBuf;

use stomp_audit::spec::doses::ProductDose;

use super::audit::load_spec;
use super::Failure;

/// Options of `codes`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An audit spec (TOML); default: the bundled STOMP spec.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Where to write the CSV (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `codes`.
pub fn run(args: Args) -> Result<(), Failure> {
    let spec = load_spec(&args.spec)?;
    let concepts = &spec.compiled.concepts;
    let mut text = String::from(
        "dmd_id,name,bnf_code,form,ingredient,concepts,mg_per_unit,unit,bnf_max_mg_per_day,cpz_100mg_per_day,fluoxetine_40mg_per_day\n",
    );
    let number = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for d in spec.classifier.known_dmd_drugs() {
        let names: Vec<&str> = concepts
            .iter()
            .enumerate()
            .filter(|(bit, _)| d.mask & (1 << bit) != 0)
            .map(|(_, c)| c.name.as_str())
            .collect();
        let dose = ProductDose::of(&d, &spec.doses);
        text.push_str(&format!(
            "{},\"{}\",{},{},{},{},{},{},{},{},{}\n",
            d.key.dmd,
            d.name.replace('"', "\"\""),
            d.bnf.as_deref().unwrap_or(""),
            d.form.as_str(),
            d.ingredient.as_deref().unwrap_or(""),
            names.join(" "),
            number(dose.mg_per_unit),
            dose.mg_per_unit.map_or("", |_| dose.unit(d.form)),
            number(dose.max.map(|m| m.mg_per_day)),
            number(dose.cpz_100mg),
            number(dose.fluoxetine_40mg),
        ));
    }
    let written = match &args.out {
        Some(path) => std::fs::write(path, &text),
        None => std::io::stdout().write_all(text.as_bytes()),
    };
    match written {
        // A reader that stops early (`| head`) is not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::data(
            anyhow::anyhow!("cannot write the codes: {e}"),
        )),
        _ => Ok(()),
    }
}
