//! The definitions behind the audit report: indicators, facts with their
//! windows, codelists with versions and checksums, and docs/indicators.md.

use std::fmt::Write;

use super::esc;
use crate::spec::doses::{DoseScale, HELD_MONTHS};
use crate::spec::{AuditSpec, Fact, Term};

fn terms(spec: &AuditSpec, ts: &[Term]) -> String {
    if ts.is_empty() {
        return "registered and alive at T".into();
    }
    ts.iter()
        .map(|t| {
            format!(
                "{}{}",
                if t.negated { "no " } else { "" },
                spec.compiled.fact_names[t.fact]
            )
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A fact in words, with its window.
fn describe_fact(spec: &AuditSpec, i: usize) -> String {
    let c = &spec.compiled;
    let label = |bit: &u8| c.concepts[*bit as usize].label.clone();
    let list = |ts: &[Term]| {
        ts.iter()
            .map(|t| {
                format!(
                    "{}{}",
                    if t.negated { "not " } else { "" },
                    c.fact_names[t.fact]
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &c.facts[i] {
        Fact::Recorded { concept, months: None } => format!("{} recorded on or before T", label(concept)),
        Fact::Recorded { concept, months: Some(m) } => format!("{} recorded in the {m} months to T", label(concept)),
        Fact::Issued { concept, exclude, months, offset_months, min_issues } => {
            let window = if *offset_months == 0 {
                format!("the {months} months to T")
            } else {
                format!("months {} to {offset_months} before T", months + offset_months)
            };
            let except = exclude.map(|x| format!(" (other than {})", label(&x))).unwrap_or_default();
            format!("{}{except} issued at least {min_issues} time(s) in {window}", label(concept))
        }
        Fact::Ingredients { concept, months, depot_months, at_least } => format!(
            "{at_least} or more different {} drugs (active ingredients; oral and depot forms of one drug are one drug), each held: issued in the {months} months to T and in the {months} months before that ({depot_months} and {depot_months} months for depot injections)",
            label(concept)
        ),
        Fact::Started { concept, months, washout_months, settle_days } => format!(
            "first {} issue in the {months} months to T, at least {settle_days} days before T, with none in the {washout_months} months before it, by a patient registered for all of those {washout_months} months",
            label(concept)
        ),
        Fact::RecordedAfterStart { concept, start, from_days, to_days } => format!(
            "{} recorded {from_days} to {to_days} days after the start of {}",
            label(concept),
            c.fact_names[*start]
        ),
        Fact::DoseKnown { concept, scale, months_before } => format!(
            "total daily dose of the {} drugs held {} known {}: issued in the {HELD_MONTHS} months before, each with a readable strength and quantity (or a clear dosage instruction)",
            label(concept),
            when(*months_before),
            scale_words(*scale)
        ),
        Fact::DoseAbove { concept, percent } => format!(
            "total daily dose of the {} drugs held at T above {percent}% of the BNF maximum (each drug's percentage summed)",
            label(concept)
        ),
        Fact::DoseFell { concept, scale, months, percent } => format!(
            "total daily dose of the {} drugs held at T at least {percent}% below the total {months} months before T, both known {}",
            label(concept),
            scale_words(*scale)
        ),
        Fact::Any(ts) => format!("any of: {}", list(ts)),
        Fact::All(ts) => format!("all of: {}", list(ts)),
        Fact::Count(ts, k) => format!("at least {k} of: {}", list(ts)),
    }
}

/// "at T" or "N months before T".
fn when(months_before: u32) -> String {
    if months_before == 0 {
        "at T".to_string()
    } else {
        format!("{months_before} months before T")
    }
}

/// The scale a dose fact reads, in words.
fn scale_words(scale: DoseScale) -> &'static str {
    match scale {
        DoseScale::BnfMaximum => "as a percentage of the BNF maximum",
        DoseScale::Chlorpromazine => "in chlorpromazine equivalents (Leucht 2016)",
        DoseScale::Fluoxetine => "in fluoxetine equivalents (Hayasaka 2015)",
    }
}

/// `docs/indicators.md`, carried in every report so a reader has the
/// definitions without the source.
const INDICATOR_DEFINITIONS: &str = include_str!("../../../docs/indicators.md");

/// The definitions: each indicator's terms and standard, each fact's
/// window, each codelist's version and checksum, and docs/indicators.md.
pub(super) fn definitions(w: &mut String, spec: &AuditSpec) {
    w.push_str("<h2>Definitions</h2><p>A date d is in the N-month window ending at T when T − N months &lt; d ≤ T; a code is recorded by T when dated on or before T. \
                Registered at T: a registration spanning T (the latest start wins); alive at T: no date of death on or before T. \
                Only people on the LD or autism registers are evaluated; the registered population is the denominator of STOMP01.</p>\
                Each indicator's numerator, denominator, codelists with their versions, windows, exclusions, the standard it follows and its known \
                limitations are set out in <a href=\"#indicator-definitions\">docs/indicators.md</a>, reproduced at the end of this page.</p>\
                <table><tr><th class=\"l\">Indicator</th><th class=\"l\">Denominator</th><th class=\"l\">Numerator (also)</th><th class=\"l\">Standard</th></tr>");
    for ind in &spec.compiled.indicators {
        let _ = write!(
            w,
            "<tr><td class=\"l\">{} {}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            esc(&ind.id),
            esc(&ind.title),
            esc(&terms(spec, &ind.denominator)),
            esc(&terms(spec, &ind.numerator)),
            esc(ind.standard.as_deref().unwrap_or(""))
        );
    }
    w.push_str("</table><h3>Facts and their windows</h3><table><tr><th class=\"l\">Fact</th><th class=\"l\">Definition at index date T</th></tr>");
    for (i, name) in spec.compiled.fact_names.iter().enumerate() {
        let _ = write!(
            w,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            esc(name),
            esc(&describe_fact(spec, i))
        );
    }
    w.push_str("</table><h3>Codelists</h3><table><tr><th class=\"l\">Name</th><th class=\"l\">Version</th><th>Codes</th><th class=\"l\">SHA-256</th></tr>");
    for c in spec.codelists.values() {
        let _ = write!(
            w,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td class=\"l\"><code>{}</code></td></tr>",
            esc(&c.name),
            esc(&c.version),
            c.entries.len(),
            &c.sha256[..16]
        );
    }
    let _ = write!(
        w,
        "</table><details id=\"indicator-definitions\"><summary>docs/indicators.md: the definitions of the default spec, with their standards and limitations</summary><pre class=\"doc\">{}</pre></details>",
        esc(INDICATOR_DEFINITIONS)
    );
}
