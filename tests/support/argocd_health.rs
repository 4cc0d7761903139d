//! Runs an Argo CD health check (`deploy/argocd/clientvpn.io/<Kind>/health.lua`) the way Argo CD
//! does: a Lua 5.1 state with only the base, table and package libraries (Argo CD's gopher-lua
//! VM opens no `string` or `math` unless `useOpenLibs` is set), the live object as the global
//! `obj`, JSON `null` as `nil`, and the returned table's `status` and `message`.

use std::path::{Path, PathBuf};

use mlua::{Lua, LuaOptions, StdLib, Value as LuaValue};
use serde_json::Value;

/// The kinds with a health check.
// Not every includer uses every item (tests/e2e_install checks endpoints only).
#[allow(dead_code)]
pub const KINDS: [&str; 2] = ["ClientVpnEndpoint", "ClientVpnUser"];

/// Directory of the health check of `kind` (upstream layout `<group>/<Kind>/`).
pub fn check_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/argocd/clientvpn.io")
        .join(kind)
}

/// The Lua source of `kind`'s check.
pub fn script_of(kind: &str) -> String {
    std::fs::read_to_string(check_dir(kind).join("health.lua"))
        .unwrap_or_else(|e| panic!("{kind}/health.lua: {e}"))
}

/// The Lua source of the `ClientVpnEndpoint` check.
#[allow(dead_code)]
pub fn script() -> String {
    script_of("ClientVpnEndpoint")
}

/// `(status, message)` that the health check returns for `obj`.
pub fn health(script: &str, obj: &Value) -> Result<(String, String), String> {
    let lua = Lua::new_with(StdLib::TABLE | StdLib::PACKAGE, LuaOptions::default())
        .map_err(|e| e.to_string())?;
    let value = to_lua(&lua, obj).map_err(|e| e.to_string())?;
    lua.globals().set("obj", value).map_err(|e| e.to_string())?;
    let result: mlua::Table = lua
        .load(script)
        .set_name("health.lua")
        .eval()
        .map_err(|e| e.to_string())?;
    let status: Option<String> = result.get("status").map_err(|e| e.to_string())?;
    let message: Option<String> = result.get("message").map_err(|e| e.to_string())?;
    Ok((status.unwrap_or_default(), message.unwrap_or_default()))
}

fn to_lua(lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
    Ok(match value {
        Value::Null => LuaValue::Nil,
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::Number(n) => LuaValue::Number(n.as_f64().unwrap_or_default()),
        Value::String(s) => LuaValue::String(lua.create_string(s)?),
        Value::Array(items) => {
            let table = lua.create_table()?;
            for (i, item) in items.iter().enumerate() {
                table.raw_set(i + 1, to_lua(lua, item)?)?;
            }
            LuaValue::Table(table)
        }
        Value::Object(map) => {
            let table = lua.create_table()?;
            for (key, item) in map {
                if !item.is_null() {
                    table.raw_set(key.as_str(), to_lua(lua, item)?)?;
                }
            }
            LuaValue::Table(table)
        }
    })
}
