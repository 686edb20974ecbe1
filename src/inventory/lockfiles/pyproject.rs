//! `pyproject.toml`: the direct dependencies of a Python project, for `poetry.lock` and
//! `uv.lock` beside it. PEP 621's `[project]` `dependencies` and `optional-dependencies` run;
//! PEP 735's `[dependency-groups]` and Poetry's `[tool.poetry.group.<name>]` are test when
//! the group's name says so (`test`, `tests`), else dev; Poetry's
//! `[tool.poetry.dependencies]` run and its old `[tool.poetry.dev-dependencies]` are dev.

use crate::model::ComponentScope;

use super::requirements::pep508;
use super::{Declared, Unreadable, group_scope};

pub(super) fn manifest(text: &str) -> Result<Vec<Declared>, Unreadable> {
    let table: toml::Table = toml::from_str(text).map_err(|e| Unreadable::toml(text, &e))?;
    let mut declared = Vec::new();
    let mut specs = |list: Option<&toml::Value>, scope: ComponentScope| {
        for spec in list
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_str)
        {
            if let Some((name, version)) = pep508(spec) {
                let mut d = Declared::new(&name, scope);
                d.version = version;
                declared.push(d);
            }
        }
    };
    let project = table.get("project");
    specs(
        project.and_then(|p| p.get("dependencies")),
        ComponentScope::Runtime,
    );
    for extra in project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(toml::Value::as_table)
        .into_iter()
        .flat_map(|t| t.values())
    {
        specs(Some(extra), ComponentScope::Runtime);
    }
    for (group, list) in table
        .get("dependency-groups")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flatten()
    {
        specs(Some(list), group_scope(group));
    }
    let tool = table.get("tool");
    specs(
        tool.and_then(|t| t.get("uv"))
            .and_then(|uv| uv.get("dev-dependencies")),
        ComponentScope::Dev,
    );

    let poetry = tool.and_then(|t| t.get("poetry"));
    let mut keys = |section: Option<&toml::Value>, scope: ComponentScope| {
        for name in section
            .and_then(toml::Value::as_table)
            .into_iter()
            .flat_map(|t| t.keys())
            .filter(|name| !name.eq_ignore_ascii_case("python"))
        {
            declared.push(Declared::new(name, scope));
        }
    };
    keys(
        poetry.and_then(|p| p.get("dependencies")),
        ComponentScope::Runtime,
    );
    keys(
        poetry.and_then(|p| p.get("dev-dependencies")),
        ComponentScope::Dev,
    );
    for (group, body) in poetry
        .and_then(|p| p.get("group"))
        .and_then(toml::Value::as_table)
        .into_iter()
        .flatten()
    {
        let scope = if group == "main" {
            ComponentScope::Runtime
        } else {
            group_scope(group)
        };
        keys(body.get("dependencies"), scope);
    }
    Ok(declared)
}
