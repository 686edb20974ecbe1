//! Maven: the `<dependencies>` of a `pom.xml` (not the plugins, not profiles). `<scope>test`
//! is test, every other scope (compile, runtime, provided, system) runtime. Versions written
//! as `${property}` are resolved from `<properties>` and the project's own coordinates, best
//! effort; a version the pom leaves to a parent (or to a BOM) is missing unless its own
//! `<dependencyManagement>` sets it.

use std::collections::HashMap;

use roxmltree::{Document, Node};

use crate::model::ComponentScope;

use super::{Declared, Unreadable};

/// How many rounds of `${…}` substitution a value gets (properties naming properties).
const MAX_SUBSTITUTIONS: usize = 8;

pub(super) fn pom(text: &str) -> Result<Vec<Declared>, Unreadable> {
    let doc = Document::parse(text).map_err(|e| {
        let pos = e.pos();
        let message = e.to_string();
        let message = match message.rfind(" at ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        Unreadable::at(pos.row as usize, pos.col as usize, message)
    })?;
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        let pos = doc.text_pos_at(project.range().start);
        return Err(Unreadable::at(
            pos.row as usize,
            pos.col as usize,
            format!(
                "the root element is <{}>, not <project>",
                project.tag_name().name()
            ),
        ));
    }
    let properties = Properties::of(project);

    let mut managed: HashMap<String, String> = HashMap::new();
    if let Some(list) =
        child(project, "dependencyManagement").and_then(|m| child(m, "dependencies"))
    {
        for dependency in children(list, "dependency") {
            let (Some(name), Some(version)) = (
                coordinates(dependency, &properties),
                text_of(dependency, "version").and_then(|v| properties.resolve(v)),
            ) else {
                continue;
            };
            managed.insert(name, version);
        }
    }

    let mut declared = Vec::new();
    let Some(list) = child(project, "dependencies") else {
        return Ok(declared);
    };
    for dependency in children(list, "dependency") {
        let Some(name) = coordinates(dependency, &properties) else {
            continue;
        };
        let scope = match text_of(dependency, "scope").map(str::trim) {
            Some("test") => ComponentScope::Test,
            _ => ComponentScope::Runtime,
        };
        let version = match text_of(dependency, "version") {
            Some(written) => properties.resolve(written),
            None => managed.get(&name).cloned(),
        };
        let at = child(dependency, "version")
            .or_else(|| child(dependency, "artifactId"))
            .unwrap_or(dependency);
        let row = doc.text_pos_at(at.range().start).row;
        let mut d = Declared::new(&name, scope);
        d.version = version;
        d.line = Some(row);
        declared.push(d);
    }
    Ok(declared)
}

/// `groupId:artifactId` of a dependency, with properties resolved.
fn coordinates(dependency: Node, properties: &Properties) -> Option<String> {
    let group = properties.resolve(text_of(dependency, "groupId")?)?;
    let artifact = properties.resolve(text_of(dependency, "artifactId")?)?;
    Some(format!("{group}:{artifact}"))
}

/// What `${name}` stands for in this pom.
struct Properties {
    values: HashMap<String, String>,
}

impl Properties {
    fn of(project: Node) -> Properties {
        let mut values = HashMap::new();
        let parent = child(project, "parent");
        let own_or_parent = |field: &str| {
            text_of(project, field).or_else(|| parent.and_then(|p| text_of(p, field)))
        };
        if let Some(version) = own_or_parent("version") {
            for key in ["project.version", "pom.version", "version"] {
                values.insert(key.to_string(), version.trim().to_string());
            }
        }
        if let Some(group) = own_or_parent("groupId") {
            for key in ["project.groupId", "pom.groupId", "groupId"] {
                values.insert(key.to_string(), group.trim().to_string());
            }
        }
        if let Some(artifact) = text_of(project, "artifactId") {
            values.insert(
                "project.artifactId".to_string(),
                artifact.trim().to_string(),
            );
        }
        if let Some(parent) = parent {
            for field in ["version", "groupId", "artifactId"] {
                if let Some(value) = text_of(parent, field) {
                    values.insert(format!("project.parent.{field}"), value.trim().to_string());
                    values.insert(format!("parent.{field}"), value.trim().to_string());
                }
            }
        }
        if let Some(properties) = child(project, "properties") {
            for property in properties.children().filter(Node::is_element) {
                let value = property.text().unwrap_or_default().trim().to_string();
                values.insert(property.tag_name().name().to_string(), value);
            }
        }
        Properties { values }
    }

    /// `text` with every `${name}` replaced; `None` when one stays unknown.
    fn resolve(&self, text: &str) -> Option<String> {
        let mut text = text.trim().to_string();
        for _ in 0..MAX_SUBSTITUTIONS {
            let Some(start) = text.find("${") else {
                break;
            };
            let end = start + text[start..].find('}')?;
            let value = self.values.get(&text[start + 2..end])?;
            text.replace_range(start..=end, value);
        }
        (!text.contains("${") && !text.is_empty()).then_some(text)
    }
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn text_of<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(node, name).and_then(|c| c.text())
}
