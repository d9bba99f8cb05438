"""Render a kustomization offline, for review and for the test suite (no kubectl or kustomize needed).

    python deploy/k8s/render.py deploy/k8s/overlays/production > rendered.yaml

Only the subset of kustomize that TeamMoa's manifests use, and an error for anything else, so the
render never silently differs from what ``kubectl apply -k`` builds:

    resources   YAML files or directories holding a kustomization.yaml (bases first, in order)
    namespace   set on every namespaced object
    images      name -> newName / newTag / digest, on the containers of every pod template
    patches     ``- path: file.yaml``: a strategic-merge patch naming its target by kind and name;
                ``- target: {kind, name}`` + ``patch:`` JSON 6902 operations (add, replace, remove)

Strategic merge, as far as these manifests need it: maps merge key by key, a ``null`` removes a
key, lists of maps merge item by item on ``name`` (containers, env, volumes, ports) or ``mountPath``
(volumeMounts), and any other list is replaced whole.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
CLUSTER_SCOPED = {
    "Namespace",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "IngressClass",
    "PriorityClass",
    "CustomResourceDefinition",
}
MERGE_KEYS = ("name", "mountPath")


class RenderError(ValueError):
    """The kustomization uses something this renderer does not do."""


def _load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _merge_key(base: list, patch: list) -> str | None:
    for key in MERGE_KEYS:
        if all(isinstance(item, dict) and key in item for item in [*base, *patch]):
            return key
    return None


def merge(base, patch):
    """Apply a strategic-merge patch (the subset above) to a copy of ``base``."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and (key := _merge_key(base, patch)):
        merged = copy.deepcopy(base)
        index = {item[key]: n for n, item in enumerate(merged)}
        for item in patch:
            if item[key] in index:
                merged[index[item[key]]] = merge(merged[index[item[key]]], item)
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(patch)


def _split_image(image: str) -> tuple[str, str]:
    """``name`` and what follows it (``:tag``, ``@digest``, both or nothing)."""
    name, at, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon:] + at + digest
    return name, at + digest


def _pod_specs(obj: dict):
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    if "template" in spec:
        yield spec["template"]["spec"]


def set_images(objects: list[dict], images: list[dict]) -> None:
    """Rename and retag matching container images, as kustomize's ``images:`` does."""
    for entry in images:
        unknown = set(entry) - {"name", "newName", "newTag", "digest"}
        if unknown:
            raise RenderError(f"images: unsupported field(s) {sorted(unknown)}")
    for obj in objects:
        for pod in _pod_specs(obj):
            for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
                name, suffix = _split_image(container["image"])
                for entry in images:
                    if entry["name"] != name:
                        continue
                    if "digest" in entry:
                        suffix = "@" + entry["digest"]
                    elif "newTag" in entry:
                        suffix = ":" + str(entry["newTag"])
                    container["image"] = entry.get("newName", name) + suffix


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise RenderError(f"JSON pointer {path!r} must start with /")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def json6902(obj: dict, operations: list[dict]) -> dict:
    """Apply JSON-patch operations (add, replace, remove) to a copy of ``obj``."""
    obj = copy.deepcopy(obj)
    for operation in operations:
        op, *parents, last = [operation.get("op"), *_pointer(operation["path"])]
        if op not in ("add", "replace", "remove"):
            raise RenderError(f"unsupported JSON patch operation {op!r}")
        node = obj
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            index = len(node) if last == "-" else int(last)
            if op == "add":
                node.insert(index, copy.deepcopy(operation["value"]))
            elif op == "replace":
                node[index] = copy.deepcopy(operation["value"])
            else:
                del node[index]
        elif op == "remove" or (op == "replace" and last not in node):
            if last not in node:
                raise RenderError(f"{operation['path']}: nothing there to {op}")
            del node[last]
        else:
            node[last] = copy.deepcopy(operation["value"])
    return obj


def _identity(obj: dict) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def _find(directory: Path, objects: list[dict], kind: str, name: str) -> int:
    for n, obj in enumerate(objects):
        if _identity(obj) == (kind, name):
            return n
    raise RenderError(f"{directory}: a patch targets {kind}/{name}, which is not among the resources")


def _patch(directory: Path, objects: list[dict], entry: dict) -> None:
    """Apply one entry of ``patches:``."""
    if set(entry) == {"path"}:
        for patch in _load_all(directory / entry["path"]):
            n = _find(directory, objects, *_identity(patch))
            objects[n] = merge(objects[n], patch)
    elif set(entry) == {"target", "patch"} and set(entry["target"]) == {"kind", "name"}:
        n = _find(directory, objects, entry["target"]["kind"], entry["target"]["name"])
        objects[n] = json6902(objects[n], yaml.safe_load(entry["patch"]))
    else:
        raise RenderError(
            f"{directory}: unsupported patch {sorted(entry)}: use `path:` (strategic merge) "
            "or `target: {kind, name}` with `patch:` (JSON 6902)"
        )


def build(directory: Path) -> list[dict]:
    """The objects a kustomization directory renders to."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise RenderError(f"{directory}: unsupported kustomization field(s) {sorted(unknown)}")
    objects: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        objects.extend(build(path) if path.is_dir() else _load_all(path))
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        if _identity(obj) in seen:
            raise RenderError(f"{directory}: {obj['kind']}/{obj['metadata']['name']} is defined twice")
        seen.add(_identity(obj))
    for entry in kustomization.get("patches", []):
        _patch(directory, objects, entry)
    set_images(objects, kustomization.get("images", []))
    if namespace := kustomization.get("namespace"):
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace
    return objects


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        objects = build(Path(argv[0]))
    except (RenderError, OSError, yaml.YAMLError) as exc:
        print(f"render.py: {exc}", file=sys.stderr)
        return 1
    yaml.safe_dump_all(objects, sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
