#!/usr/bin/env python3
"""Extracts the JSON schemas the simulator's schema test validates records against.

Run from anywhere: python3 extract.py [SPECS_DIR] (default /work/shared/specs). It writes
connectwise/*.json, autotask/*.json and index.json beside itself. The test never reads the
vendor files: only these outputs, which are committed.

Every schema is self-contained ($refs resolved inline; a reference that would recurse into
itself becomes a plain object), in JSON Schema 2020-12:

- ConnectWise (OpenAPI 3.0): `nullable: true` becomes a null alternative of the type (and of an
  enum); a bare `{"type": "object"}` without properties (C#'s `object`, used for
  `ConfigurationQuestion.answer`) accepts any value; `format`s are kept.
- Autotask (Swagger 2.0): property names are converted from PascalCase to the camelCase the API
  answers with (`CompanyID` -> `companyID`, `RMMDeviceUID` -> `rmmDeviceUID`), as in the
  trimmed mock subset in the specs; `SoapParentPropertyId` is dropped; every property may be
  null (the Swagger states no nullability and the API answers null for unset fields); `format`s
  are dropped (the API's .NET date-times such as `2026-01-31T09:30:00.0000000` carry no offset,
  which RFC 3339's `date-time` refuses).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SPECS = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/specs"

CW_GET_SUBSET = "connectwise-manage-2026.4-get-subset.openapi.json"
CW_MOCK_SUBSET = "connectwise-psa-mock-subset.openapi.json"
AT_SWAGGER = "autotask-rest-v1.0-webservices2-2024-04.swagger2.json"

# ConnectWise list paths the simulator serves (with `{parentId}` where a parent is needed), and
# the file their item schema comes from.
CW_PATHS = [
    ("/company/companies", CW_GET_SUBSET),
    ("/company/companies/statuses", CW_GET_SUBSET),
    ("/company/companies/types", CW_GET_SUBSET),
    ("/company/contacts", CW_GET_SUBSET),
    ("/finance/agreements", CW_GET_SUBSET),
    ("/finance/agreements/types", CW_GET_SUBSET),
    ("/finance/agreements/{parentId}/additions", CW_GET_SUBSET),
    ("/company/configurations", CW_MOCK_SUBSET),
    ("/service/tickets", CW_GET_SUBSET),
    ("/service/tickets/{parentId}/notes", CW_GET_SUBSET),
    ("/service/boards", CW_GET_SUBSET),
    ("/service/boards/{parentId}/statuses", CW_GET_SUBSET),
    ("/service/boards/{parentId}/types", CW_GET_SUBSET),
    ("/service/boards/{parentId}/subtypes", CW_GET_SUBSET),
    ("/service/boards/{parentId}/items", CW_GET_SUBSET),
    ("/service/priorities", CW_GET_SUBSET),
    ("/service/sources", CW_GET_SUBSET),
    ("/procurement/catalog", CW_GET_SUBSET),
    # datasets
    ("/time/entries", CW_GET_SUBSET),
    ("/sales/opportunities", CW_GET_SUBSET),
    ("/project/projects", CW_GET_SUBSET),
    ("/project/tickets", CW_GET_SUBSET),
    ("/finance/invoices", CW_GET_SUBSET),
    ("/system/members", CW_GET_SUBSET),
    ("/company/companies/{parentId}/notes", CW_GET_SUBSET),
    ("/company/companies/{parentId}/sites", CW_GET_SUBSET),
]

# Autotask entities the simulator serves (ContractServiceAdjustments can only be created).
AT_ENTITIES = [
    "Companies", "Contacts", "Contracts", "ContractServices", "ContractServiceUnits",
    "ConfigurationItems", "Tickets", "TicketNotes", "Services",
    # datasets
    "TimeEntries", "Opportunities", "Projects", "Tasks", "Invoices", "Resources",
    "CompanyNotes", "ContractBlocks", "ServiceLevelAgreementResults", "SurveyResults",
    "CompanyLocations",
]


def load(name):
    with open(os.path.join(SPECS, name), encoding="utf-8-sig") as f:
        return json.load(f)


def camel(name):
    """PascalCase -> camelCase, keeping acronyms after the first word: RMMDeviceUID -> rmmDeviceUID."""
    if name.isupper():
        return name.lower()
    run = 0
    while run < len(name) and name[run].isupper():
        run += 1
    if run <= 1:
        return name[:1].lower() + name[1:]
    return name[: run - 1].lower() + name[run - 1 :]


def resolve(node, definitions, prefix, convert, seen=()):
    """`node` with every $ref under `prefix` replaced by its definition, converted."""
    if isinstance(node, list):
        return [resolve(x, definitions, prefix, convert, seen) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"][len(prefix):]
        if name in seen:
            return {"type": "object"}
        return resolve(definitions[name], definitions, prefix, convert, seen + (name,))
    out = {k: resolve(v, definitions, prefix, convert, seen) for k, v in node.items()}
    return convert(out)


def cw_convert(node):
    node.pop("example", None)
    node.pop("description", None)
    if node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node:
        return {}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        if "enum" in node:
            node["enum"] = node["enum"] + [None]
    return node


def at_convert(node):
    node.pop("example", None)
    node.pop("description", None)
    node.pop("format", None)
    if isinstance(node.get("properties"), dict):
        props = {}
        for name, schema in node["properties"].items():
            if name == "SoapParentPropertyId":
                continue
            schema = dict(schema)
            if "type" in schema and not isinstance(schema["type"], list):
                schema["type"] = [schema["type"], "null"]
            props[camel(name)] = schema
        node["properties"] = props
        if "required" in node:
            node["required"] = [camel(r) for r in node["required"]]
    return node


def write(vendor, name, schema, source):
    schema = dict(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = name
    schema["$comment"] = f"{source}: {name} (generated by extract.py; do not edit)"
    os.makedirs(os.path.join(HERE, vendor), exist_ok=True)
    with open(os.path.join(HERE, vendor, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(schema, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    index = {"connectwise": {}, "autotask": {}}
    sources = {}
    for path, source in CW_PATHS:
        spec = sources.setdefault(source, load(source))
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        items = next(iter(content.values()))["schema"]["items"]
        name = items["$ref"].split("/")[-1]
        schema = resolve(items, spec["components"]["schemas"], "#/components/schemas/", cw_convert)
        write("connectwise", name, schema, source)
        index["connectwise"][path.lstrip("/")] = name
    swagger = load(AT_SWAGGER)
    for entity in AT_ENTITIES:
        ref = swagger["paths"][f"/V1.0/{entity}/{{id}}"]["get"]["responses"]["200"]["schema"]
        name = ref["$ref"].split("/")[-1]
        schema = resolve(ref, swagger["definitions"], "#/definitions/", at_convert)
        write("autotask", name, schema, AT_SWAGGER)
        index["autotask"][entity] = name
    with open(os.path.join(HERE, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
