//! Keeps docs/policy.schema.json and docs/refvalues.schema.json honest.
//!
//! A full JSON Schema validator (the `jsonschema` crate) costs minutes of
//! build time on a 2-core machine, so this test carries a small validator
//! for exactly the keywords the two schemas use (and fails on any other
//! keyword, so the schemas cannot drift into what it does not check).
//! Patterns go through the `regex` crate, already in the workspace.
//!
//! It checks that:
//! - the schemas parse, are draft 2020-12, close every object
//!   (`additionalProperties: false`) and describe every property;
//! - the property names of every table equal the keys that
//!   tests/fixtures/every-key.toml (and its reference-value file) use, and
//!   that fixture loads with `cogito_policy::load`: a key renamed or added
//!   in model.rs without the schema (or the other way round) fails here;
//! - every example in policies/ loads and validates, and every file in
//!   policies/refvalues/ validates against the reference-value schema;
//! - mutations that the loader refuses (a hex value one byte short, an
//!   unknown key in any table, a 95-digit measurement) are refused by the
//!   schema too.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_json(rel: &str) -> Value {
    let p = root().join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", p.display()))
}

/// TOML to the JSON the schema describes: dates and date-times become
/// their TOML text (`2027-01-31`, `2027-01-31T00:00:00Z`).
fn to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

fn toml_file(p: &Path) -> (String, Value) {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let v: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (text, to_json(&v))
}

fn load_file(p: &Path) -> Result<cogito_policy::Policy, cogito_policy::PolicyError> {
    let text = std::fs::read_to_string(p).unwrap();
    load_text(p, &text)
}

fn load_text(p: &Path, text: &str) -> Result<cogito_policy::Policy, cogito_policy::PolicyError> {
    let dir = p.parent().unwrap().to_path_buf();
    cogito_policy::load(&p.display().to_string(), text, &mut |inc: &str| {
        std::fs::read_to_string(dir.join(inc)).map_err(|e| e.to_string())
    })
}

// ---------------------------------------------------------------------------
// A validator for the subset of draft 2020-12 the schemas use.

const ANNOTATIONS: &[&str] = &["$schema", "$id", "$defs", "title", "description"];
const KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "properties",
    "additionalProperties",
    "required",
    "items",
    "minItems",
    "uniqueItems",
    "enum",
    "oneOf",
    "anyOf",
    "minimum",
    "maximum",
    "minLength",
    "pattern",
];

struct Validator<'a> {
    root: &'a Value,
}

impl Validator<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r
                    .strip_prefix("#/$defs/")
                    .unwrap_or_else(|| panic!("unsupported $ref {r}"));
                self.root["$defs"]
                    .get(name)
                    .unwrap_or_else(|| panic!("dangling $ref {r}"))
            }
            None => schema,
        }
    }

    /// Errors (JSON-pointer-ish path and reason); empty when valid.
    fn errors(&self, schema: &Value, v: &Value, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let obj = schema
            .as_object()
            .unwrap_or_else(|| panic!("schema at {path} is not an object"));
        for k in obj.keys() {
            assert!(
                KEYWORDS.contains(&k.as_str()) || ANNOTATIONS.contains(&k.as_str()),
                "the schema uses keyword {k:?} (at {path}), which tests/schema.rs does not check; teach it"
            );
        }
        if obj.contains_key("$ref") {
            out.extend(self.errors(self.resolve(schema), v, path));
        }
        if let Some(t) = obj.get("type").and_then(Value::as_str) {
            let ok = match t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "boolean" => v.is_boolean(),
                other => panic!("unsupported type {other}"),
            };
            if !ok {
                out.push(format!("{path}: not a {t}"));
                return out;
            }
        }
        if let Some(e) = obj.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                out.push(format!("{path}: {v} not in enum"));
            }
        }
        if let Some(m) = obj.get("minimum").and_then(Value::as_i64) {
            if v.as_i64().is_some_and(|x| x < m) {
                out.push(format!("{path}: below {m}"));
            }
        }
        if let Some(m) = obj.get("maximum").and_then(Value::as_i64) {
            if v.as_i64().is_some_and(|x| x > m) || v.is_u64() && v.as_i64().is_none() {
                out.push(format!("{path}: above {m}"));
            }
        }
        if let (Some(m), Some(s)) = (obj.get("minLength").and_then(Value::as_u64), v.as_str()) {
            if (s.chars().count() as u64) < m {
                out.push(format!("{path}: shorter than {m}"));
            }
        }
        if let (Some(p), Some(s)) = (obj.get("pattern").and_then(Value::as_str), v.as_str()) {
            let re = regex::Regex::new(p).unwrap_or_else(|e| panic!("pattern {p:?}: {e}"));
            if !re.is_match(s) {
                out.push(format!("{path}: {s:?} does not match {p}"));
            }
        }
        if let Some(a) = v.as_array() {
            if let Some(m) = obj.get("minItems").and_then(Value::as_u64) {
                if (a.len() as u64) < m {
                    out.push(format!("{path}: fewer than {m} items"));
                }
            }
            if obj.get("uniqueItems") == Some(&Value::Bool(true)) {
                for (i, x) in a.iter().enumerate() {
                    if a[..i].contains(x) {
                        out.push(format!("{path}/{i}: duplicate item"));
                    }
                }
            }
            if let Some(items) = obj.get("items") {
                for (i, x) in a.iter().enumerate() {
                    out.extend(self.errors(items, x, &format!("{path}/{i}")));
                }
            }
        }
        if let Some(o) = v.as_object() {
            if let Some(req) = obj.get("required").and_then(Value::as_array) {
                for r in req {
                    if !o.contains_key(r.as_str().unwrap()) {
                        out.push(format!("{path}: missing {r}"));
                    }
                }
            }
            let props = obj.get("properties").and_then(Value::as_object);
            if let Some(props) = props {
                for (k, x) in o {
                    match props.get(k) {
                        Some(s) => out.extend(self.errors(s, x, &format!("{path}/{k}"))),
                        None if obj.get("additionalProperties") == Some(&Value::Bool(false)) => {
                            out.push(format!("{path}: unknown key {k:?}"));
                        }
                        None => {}
                    }
                }
            }
        }
        if let Some(alts) = obj.get("oneOf").and_then(Value::as_array) {
            let n = alts
                .iter()
                .filter(|s| self.errors(s, v, path).is_empty())
                .count();
            if n != 1 {
                out.push(format!(
                    "{path}: matches {n} of the oneOf alternatives, not exactly one"
                ));
            }
        }
        if let Some(alts) = obj.get("anyOf").and_then(Value::as_array) {
            if !alts.iter().any(|s| self.errors(s, v, path).is_empty()) {
                out.push(format!("{path}: matches none of the anyOf alternatives"));
            }
        }
        out
    }

    fn validate(&self, v: &Value) -> Vec<String> {
        self.errors(self.root, v, "")
    }
}

// ---------------------------------------------------------------------------
// Table key sets.

/// Table path → property names, for every object the schema describes,
/// following $ref into object definitions and array items that are objects
/// (`cca.sw_components`). Reference-value tables ({value, expires, note})
/// are alternatives of a value, not tables of the file, and are skipped.
fn schema_tables(
    v: &Validator<'_>,
    schema: &Value,
    path: &str,
    out: &mut BTreeMap<String, BTreeSet<String>>,
) {
    let s = v.resolve(schema);
    if s.get("oneOf").is_some() {
        return;
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        out.insert(path.to_string(), props.keys().cloned().collect());
        for (k, p) in props {
            let child = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            schema_tables(v, p, &child, out);
        }
    } else if let Some(items) = s.get("items") {
        let items = v.resolve(items);
        if items.get("properties").is_some() {
            schema_tables(v, items, path, out);
        }
    }
}

/// The same map for a document: every table and array of tables, merging
/// the keys of all elements of an array of tables. Inline reference-value
/// tables (inside value arrays) are not tables of the file.
fn doc_tables(v: &Value, path: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
    match v {
        Value::Object(o) => {
            out.entry(path.to_string())
                .or_default()
                .extend(o.keys().cloned());
            for (k, x) in o {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match x {
                    Value::Object(_) => doc_tables(x, &child, out),
                    Value::Array(a)
                        if a.iter().all(Value::is_object)
                            && !a.is_empty()
                            && !a[0].as_object().unwrap().contains_key("value") =>
                    {
                        for e in a {
                            doc_tables(e, &child, out);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => panic!("not a table at {path}"),
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn schemas_are_well_formed() {
    for rel in ["docs/policy.schema.json", "docs/refvalues.schema.json"] {
        let s = read_json(rel);
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{rel}"
        );
        fn walk(rel: &str, s: &Value, path: &str) {
            match s {
                Value::Object(o) => {
                    if o.contains_key("properties") {
                        assert_eq!(
                            o.get("additionalProperties"),
                            Some(&Value::Bool(false)),
                            "{rel}: {path} must close its properties"
                        );
                        for (k, p) in o["properties"].as_object().unwrap() {
                            let d = p.get("description").and_then(Value::as_str).unwrap_or("");
                            assert!(
                                !d.trim().is_empty(),
                                "{rel}: {path}/properties/{k} has no description"
                            );
                        }
                    }
                    for (k, x) in o {
                        walk(rel, x, &format!("{path}/{k}"));
                    }
                }
                Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        walk(rel, x, &format!("{path}/{i}"));
                    }
                }
                _ => {}
            }
        }
        walk(rel, &s, "");
        // Every pattern compiles.
        fn patterns(s: &Value) {
            match s {
                Value::Object(o) => {
                    if let Some(p) = o.get("pattern").and_then(Value::as_str) {
                        regex::Regex::new(p).unwrap_or_else(|e| panic!("pattern {p:?}: {e}"));
                    }
                    o.values().for_each(patterns);
                }
                Value::Array(a) => a.iter().for_each(patterns),
                _ => {}
            }
        }
        patterns(&s);
    }
}

#[test]
fn every_key_fixture_loads_and_matches_the_schema_tables() {
    let policy_path = fixtures().join("every-key.toml");
    load_file(&policy_path).unwrap_or_else(|e| panic!("{e}"));

    for (schema_rel, file) in [
        ("docs/policy.schema.json", "every-key.toml"),
        ("docs/refvalues.schema.json", "every-key-refvalues.toml"),
    ] {
        let schema = read_json(schema_rel);
        let v = Validator { root: &schema };
        let (_, doc) = toml_file(&fixtures().join(file));
        let errs = v.validate(&doc);
        assert!(
            errs.is_empty(),
            "{file} against {schema_rel}:\n{}",
            errs.join("\n")
        );
        let mut want = BTreeMap::new();
        schema_tables(&v, &schema, "", &mut want);
        let mut have = BTreeMap::new();
        doc_tables(&doc, "", &mut have);
        for (table, keys) in &want {
            let used = have.get(table).cloned().unwrap_or_default();
            let missing: Vec<_> = keys.difference(&used).collect();
            let extra: Vec<_> = used.difference(keys).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "table [{table}]: the schema {schema_rel} has keys the fixture {file} does not use: {missing:?}; the fixture uses keys the schema lacks: {extra:?}"
            );
        }
        let unknown: Vec<_> = have.keys().filter(|t| !want.contains_key(*t)).collect();
        assert!(
            unknown.is_empty(),
            "{file} has tables the schema lacks: {unknown:?}"
        );
    }
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn example_policies_load_and_validate() {
    let schema = read_json("docs/policy.schema.json");
    let v = Validator { root: &schema };
    let files = toml_files(&root().join("policies"));
    assert!(
        files.len() >= 4,
        "policies/ should hold the example policies, found {files:?}"
    );
    for f in files {
        load_file(&f).unwrap_or_else(|e| panic!("{e}"));
        let (_, doc) = toml_file(&f);
        let errs = v.validate(&doc);
        assert!(errs.is_empty(), "{}:\n{}", f.display(), errs.join("\n"));
    }
    let rv_schema = read_json("docs/refvalues.schema.json");
    let rv = Validator { root: &rv_schema };
    let files = toml_files(&root().join("policies/refvalues"));
    assert!(!files.is_empty());
    for f in files {
        let (_, doc) = toml_file(&f);
        let errs = rv.validate(&doc);
        assert!(errs.is_empty(), "{}:\n{}", f.display(), errs.join("\n"));
    }
}

/// Every hex leaf of a document, as (pointer, value).
fn hex_leaves(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => {
            let t = s.strip_prefix("0x").unwrap_or(s);
            if t.len() >= 8 && t.len() % 2 == 0 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
                out.push((path.to_string(), s.clone()));
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| hex_leaves(x, &format!("{path}/{i}"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| hex_leaves(x, &format!("{path}/{k}"), out)),
        _ => {}
    }
}

/// JSON back to TOML text, for feeding mutated documents to the loader.
fn to_toml(v: &Value) -> String {
    fn conv(v: &Value, key: &str) -> toml::Value {
        match v {
            Value::String(s) if key == "expires" => s
                .parse::<toml::value::Datetime>()
                .map(toml::Value::Datetime)
                .unwrap_or_else(|_| toml::Value::String(s.clone())),
            Value::String(s) => toml::Value::String(s.clone()),
            Value::Bool(b) => toml::Value::Boolean(*b),
            Value::Number(n) => toml::Value::Integer(n.as_i64().unwrap()),
            Value::Array(a) => toml::Value::Array(a.iter().map(|x| conv(x, "")).collect()),
            Value::Object(o) => {
                toml::Value::Table(o.iter().map(|(k, x)| (k.clone(), conv(x, k))).collect())
            }
            Value::Null => unreachable!(),
        }
    }
    toml::to_string(&conv(v, "")).unwrap()
}

#[test]
fn what_the_loader_refuses_the_schema_refuses() {
    let schema = read_json("docs/policy.schema.json");
    let v = Validator { root: &schema };
    let path = fixtures().join("every-key.toml");
    let (_, doc) = toml_file(&path);
    // The round trip itself loads.
    load_text(&path, &to_toml(&doc)).unwrap_or_else(|e| panic!("round trip: {e}"));

    // Each hex value one byte short.
    let mut leaves = Vec::new();
    hex_leaves(&doc, "", &mut leaves);
    assert!(leaves.len() > 30, "{}", leaves.len());
    for (ptr, s) in &leaves {
        let mut d = doc.clone();
        *d.pointer_mut(ptr).unwrap() = Value::String(s[..s.len() - 2].to_string());
        // A CCA digest or any-length blob one byte short may still be a
        // valid length: the loader and the schema must then agree it is.
        let schema_ok = v.validate(&d).is_empty();
        let load = load_text(&path, &to_toml(&d));
        // Cross-table rules (common lists must meet the platform lists)
        // are beyond a schema; only `policy check` sees them.
        let cross_table = load
            .as_ref()
            .err()
            .is_some_and(|e| e.message.contains("have no value in common"));
        let load_ok = load.is_ok() || cross_table;
        assert_eq!(
            schema_ok, load_ok,
            "{ptr} one byte short: schema accepts = {schema_ok}, loader accepts = {load_ok}"
        );
    }

    // An unknown key in every table.
    let mut tables = BTreeMap::new();
    doc_tables(&doc, "", &mut tables);
    for table in tables.keys() {
        let mut d = doc.clone();
        let ptr = if table.is_empty() {
            String::new()
        } else {
            format!("/{}", table.replace('.', "/"))
        };
        let target = d.pointer_mut(&ptr).unwrap();
        let obj: &mut Map<String, Value> = match target {
            Value::Object(o) => o,
            Value::Array(a) => a[0].as_object_mut().unwrap(),
            _ => unreachable!(),
        };
        obj.insert("no_such_key".into(), json!(true));
        assert!(
            !v.validate(&d).is_empty(),
            "the schema accepts an unknown key in [{table}]"
        );
        assert!(
            load_text(&path, &to_toml(&d)).is_err(),
            "the loader accepts an unknown key in [{table}]"
        );
    }

    // A 95-digit measurement, and a reference-value table with a typo.
    let m95 = "a".repeat(95);
    for bad in [
        json!([m95]),
        json!([{ "value": "ab".repeat(48), "expire": "2027-01-01" }]),
        json!([]),
    ] {
        let mut d = doc.clone();
        d["snp"]["measurements"] = bad.clone();
        assert!(
            !v.validate(&d).is_empty(),
            "the schema accepts snp.measurements = {bad}"
        );
        assert!(
            load_text(&path, &to_toml(&d)).is_err(),
            "the loader accepts snp.measurements = {bad}"
        );
    }

    // VMIDs: only 0 to 3, each once, at least one.
    for bad in [json!([4]), json!([-1]), json!([0, 0]), json!([])] {
        let mut d = doc.clone();
        d["tdx"]["vmids"] = bad.clone();
        assert!(
            !v.validate(&d).is_empty(),
            "the schema accepts tdx.vmids = {bad}"
        );
        assert!(
            load_text(&path, &to_toml(&d)).is_err(),
            "the loader accepts tdx.vmids = {bad}"
        );
    }
    let mut d = doc.clone();
    d["tdx"]["vmids"] = json!([0, 1, 2, 3]);
    assert!(v.validate(&d).is_empty());
    load_text(&path, &to_toml(&d)).unwrap_or_else(|e| panic!("{e}"));
}
