"""`mlops review --base REF`: what a change does to every environment, as a PR comment.

The working tree and the base ref are each planned offline; the markdown shows,
per environment, the resources added, changed (with the changed input paths) and
removed, the policy results and the monthly cost with its delta.

Both trees are planned in child processes by the same (this checkout's) plan
engine, with the tree's own ``infra``, ``pipelines`` and ``mlops_runtime`` packages
first on ``sys.path``. Planning the base in this process would not work: those
packages are already imported (or resolve through the editable install) from the
working tree, so the base's program would silently run the working tree's
code. The worker checks where they were imported from and refuses a plan
made with the wrong code. Using one engine for both sides means that a diff
shows changes to the program and its configuration, never differences between
engine versions, and both sides are priced with the same price table.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import mlops
from mlops.errors import MlopsError, PlanError, UsageError

if TYPE_CHECKING:
    from mlops.scan import ScanResult

# the tree's own packages: imported from the planned tree, never from elsewhere
# (``components`` held the Pulumi components of trees older than infra/foundation and
# infra/services: a base ref from before that change still plans with its own)
RUNTIME = "mlops_runtime"
TREE_PACKAGES = ("infra", "components", "pipelines", RUNTIME)
MAX_PATHS = 25  # changed paths listed per resource before "... and N more"
MAX_VALUE = 80  # characters of a value shown in a diff line
MAX_COMMENT = 60_000  # GitHub refuses comments above 65,536 characters
WORKER_TIMEOUT_S = 900

Json = dict[str, Any]


# ---------------------------------------------------------------- git


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise UsageError("git is not installed (needed to check out the base ref)") from None


@dataclass(frozen=True)
class BaseRef:
    ref: str
    sha: str
    short: str
    toplevel: Path  # the git work tree holding the project
    project: Path  # the project root, relative to toplevel


def resolve_ref(root: Path, ref: str) -> BaseRef:
    """The commit REF names in the repository holding ROOT; exit 2 when there is none."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UsageError(f"{root} is not inside a git repository")
    if ref.startswith("-"):
        raise UsageError(f"unknown git ref {ref!r}")
    sha = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if sha.returncode != 0 or not sha.stdout.strip():
        raise UsageError(f"unknown git ref {ref!r}")
    full = sha.stdout.strip()
    toplevel = Path(top.stdout.strip()).resolve()
    return BaseRef(ref, full, full[:12], toplevel, root.resolve().relative_to(toplevel))


@contextlib.contextmanager
def base_worktree(base: BaseRef) -> Iterator[Path]:
    """A detached worktree of the base commit, removed afterwards even on failure."""
    tmp = Path(tempfile.mkdtemp(prefix="mlops-review-"))
    path = tmp / "base"
    try:
        added = _git(base.toplevel, "worktree", "add", "--detach", "--quiet", str(path), base.sha)
        if added.returncode != 0:
            reason = (added.stderr.strip().splitlines() or ["git worktree add failed"])[-1]
            raise MlopsError(f"cannot check out {base.ref}: {reason}")
        yield path / base.project
    finally:
        _git(base.toplevel, "worktree", "remove", "--force", str(path))
        _git(base.toplevel, "worktree", "prune")
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- planning (worker)

_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from mlops.review import worker_main; raise SystemExit(worker_main(sys.argv[2:]))"
)


def _origin(module: Any) -> Path | None:
    where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), None)
    return Path(where).resolve() if where else None


def worker_main(args: Sequence[str]) -> int:
    """Child process: plan ENVs of the tree at ROOT and write the results to OUT as JSON."""
    root, out, envs = Path(args[0]).resolve(), Path(args[1]), list(args[2:])
    # `mlops` is already imported from the engine's checkout; the tree's packages
    # must now resolve to ROOT, ahead of the editable install's finder.
    sys.path.insert(0, str(root))
    # The engine's own errors come from its checkout's runtime library; the program must
    # import the tree's, so the engine's copy is forgotten (its classes stay in use).
    for name in [m for m in sys.modules if m == RUNTIME or m.startswith(f"{RUNTIME}.")]:
        del sys.modules[name]
    stale = [name for name in TREE_PACKAGES if name in sys.modules]
    if stale:
        raise SystemExit(f"{', '.join(stale)} imported before planning {root}")
    from mlops.engine.plan import plan_environment, public

    results: dict[str, Json] = {}
    for env in envs:
        try:
            planned = plan_environment(env, root=root)
            # the outputs the mocks gave each resource: the scanner's export needs them
            results[env] = {"plan": public(planned), "states": planned["_states"]}
        except MlopsError as exc:
            results[env] = {"error": str(exc), "exit_code": exc.exit_code}
    imported: dict[str, str] = {}
    for name in TREE_PACKAGES:
        origin = _origin(sys.modules.get(name))
        if origin is None:
            continue
        imported[name] = str(origin)
        if not origin.is_relative_to(root):
            raise SystemExit(f"{name} was imported from {origin}, not from the tree {root}")
    out.write_text(json.dumps({"results": results, "imported": imported}, sort_keys=True))
    return 0


@dataclass
class TreePlans:
    label: str
    results: dict[str, Json]
    imported: dict[str, str]


def plan_trees(jobs: Sequence[tuple[str, Path, Sequence[str]]]) -> list[TreePlans]:
    """Plan several trees (label, root, envs) in parallel child processes."""
    engine_parent = str(Path(mlops.__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory(prefix="mlops-review-plans-") as tmp:
        running: list[tuple[str, subprocess.Popen[bytes], Path, Path]] = []
        try:
            for i, (label, root, envs) in enumerate(jobs):
                out, err = Path(tmp) / f"{i}.json", Path(tmp) / f"{i}.err"
                # -I: no PYTHONPATH, no user site, no cwd on sys.path; only the paths set above
                argv = [sys.executable, "-I", "-c", _BOOT, engine_parent, str(root), str(out)]
                with err.open("wb") as err_file:  # a file: a chatty program cannot block on a pipe
                    proc = subprocess.Popen(
                        [*argv, *envs], cwd=root, stdout=subprocess.DEVNULL, stderr=err_file
                    )
                running.append((label, proc, out, err))
            plans = []
            for label, proc, out, err in running:
                try:
                    proc.wait(timeout=WORKER_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    raise PlanError(f"planning {label} took over {WORKER_TIMEOUT_S} s") from None
                if proc.returncode != 0 or not out.is_file():
                    lines = err.read_text(errors="replace").strip().splitlines()
                    last = (lines or [f"exit code {proc.returncode}"])[-1]
                    raise PlanError(f"planning {label} failed: {last}")
                doc = json.loads(out.read_text())
                plans.append(TreePlans(label, doc["results"], doc["imported"]))
        finally:
            # one tree failed (or the user pressed Ctrl-C): do not leave the others running
            for _, proc, _, _ in running:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return plans


# ---------------------------------------------------------------- diff

_ABSENT = object()
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENT.match(key) else f"{path}[{json.dumps(key)}]"


def _json_doc(value: Any) -> Any:
    """Policy documents and the like arrive as JSON strings; diff them as structures."""
    if isinstance(value, str) and value[:1] in "{[":
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return _ABSENT


def diff_values(before: Any, after: Any, path: str) -> list[tuple[str, Any, Any]]:
    """Every leaf path whose value differs, in a stable order."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[tuple[str, Any, Any]] = []
        for k in sorted(set(before) | set(after)):
            found += diff_values(before.get(k, _ABSENT), after.get(k, _ABSENT), _key(path, k))
        return found
    if isinstance(before, list) and isinstance(after, list):
        found = []
        for i in range(max(len(before), len(after))):
            found += diff_values(
                before[i] if i < len(before) else _ABSENT,
                after[i] if i < len(after) else _ABSENT,
                f"{path}[{i}]",
            )
        return found
    if _same(before, after):
        return []
    doc_before, doc_after = _json_doc(before), _json_doc(after)
    if doc_before is not _ABSENT and doc_after is not _ABSENT:
        # JSON pointer inside the document: `inputs.policy#/Statement/0/Action`
        return [
            (f"{path}#{sub or '/'}", b, a) for sub, b, a in _pointer_diff(doc_before, doc_after, "")
        ]
    return [(path, before, after)]


def _same(a: Any, b: Any) -> bool:
    """Equal values: 2 and 2.0 are one number (protobuf structs carry floats); True is not 1."""
    if a is b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    return bool(a == b) and (numbers or type(a) is type(b))


def _pointer_diff(before: Any, after: Any, pointer: str) -> list[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[tuple[str, Any, Any]] = []
        for k in sorted(set(before) | set(after)):
            token = k.replace("~", "~0").replace("/", "~1")
            found += _pointer_diff(
                before.get(k, _ABSENT), after.get(k, _ABSENT), f"{pointer}/{token}"
            )
        return found
    if isinstance(before, list) and isinstance(after, list):
        found = []
        for i in range(max(len(before), len(after))):
            found += _pointer_diff(
                before[i] if i < len(before) else _ABSENT,
                after[i] if i < len(after) else _ABSENT,
                f"{pointer}/{i}",
            )
        return found
    return [] if _same(before, after) else [(pointer, before, after)]


def show_value(value: Any) -> str:
    """A value for a diff line; secrets stay redacted, long values are cut."""
    if value is _ABSENT:
        return "(none)"
    if value == "[secret]":
        return "[secret]"
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


@dataclass
class Change:
    resource: Json
    paths: list[tuple[str, Any, Any]]


@dataclass
class EnvDiff:
    env: str
    added: list[Json] = field(default_factory=list)
    removed: list[Json] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)


def _order(r: Json) -> tuple[str, str, str]:
    return (r["type"], r["name"], r["urn"])


def diff_plans(env: str, base: Json | None, head: Json) -> EnvDiff:
    """Resources are matched by URN, as Pulumi does; inputs and `protect` are compared."""
    before = {r["urn"]: r for r in (base or {}).get("resources", [])}
    after = {r["urn"]: r for r in head.get("resources", [])}
    diff = EnvDiff(env)
    diff.added = sorted((after[u] for u in after.keys() - before.keys()), key=_order)
    diff.removed = sorted((before[u] for u in before.keys() - after.keys()), key=_order)
    for urn in sorted(after.keys() & before.keys(), key=lambda u: _order(after[u])):
        b, a = before[urn], after[urn]
        paths = diff_values(b.get("inputs", {}), a.get("inputs", {}), "inputs")
        if b.get("protect") != a.get("protect"):
            paths.append(("protect", b.get("protect"), a.get("protect")))
        if paths:
            diff.changed.append(Change(a, paths))
    return diff


# ---------------------------------------------------------------- rendering


def _money(amount: float) -> str:
    return f"${amount:,.2f}"


def _delta(amount: float) -> str:
    amount = round(amount, 2)
    if amount == 0:
        return "$0.00"
    return f"+${amount:,.2f}" if amount > 0 else f"-${-amount:,.2f}"


def _cell(text: str) -> str:
    """Text for a markdown table cell: pipes and newlines would break the row."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _label(r: Json) -> str:
    return f"{_code(r['type'])} **{_cell(r['name'])}**"


def cost_of(plan: Json | None) -> Json | None:
    if plan is None:
        return None
    cost = plan.get("cost")
    if isinstance(cost, dict) and "monthly_usd" in cost:
        return cost
    from mlops.cost import estimate

    return estimate(plan)


def _violations(plan: Json | None) -> list[Json] | None:
    policies = (plan or {}).get("policies")
    if not isinstance(policies, dict) or not isinstance(policies.get("violations"), list):
        return None
    return list(policies["violations"])


def _vkey(v: Json) -> tuple[str, str, str]:
    return (str(v.get("policy")), str(v.get("urn")), str(v.get("message")))


@dataclass
class EnvReview:
    env: str
    head: Json
    base: Json | None
    base_note: str | None  # why there is no base plan
    diff: EnvDiff


def _summary_row(er: EnvReview) -> str:
    d = er.diff
    head_cost = cost_of(er.head)
    base_cost = cost_of(er.base)
    violations = _violations(er.head)
    if violations is None:
        policy = "n/a"
    else:
        mandatory = sum(1 for v in violations if v.get("enforcement") == "mandatory")
        policy = f"{mandatory} / {len(violations) - mandatory}"
    monthly = _money(head_cost["monthly_usd"]) if head_cost else "n/a"
    delta = (
        _delta(head_cost["monthly_usd"] - base_cost["monthly_usd"])
        if head_cost and base_cost
        else "n/a"
    )
    counts = (
        f"{len(d.added)} | {len(d.changed)} | {len(d.removed)}"
        if er.base is not None or er.base_note == "new environment"
        else "n/a | n/a | n/a"
    )
    return f"| {er.env} | {counts} | {policy} | {monthly} | {delta} |"


def _ignored(path: str, ignore_changes: Sequence[str]) -> bool:
    """Whether Pulumi skips this input on update (a resource's `ignoreChanges` option)."""
    if not path.startswith("inputs."):
        return False
    prop = path[len("inputs.") :]
    return any(
        prop == ic or prop.startswith((f"{ic}.", f"{ic}[", f"{ic}#")) for ic in ignore_changes
    )


def _resources_section(er: EnvReview) -> list[str]:
    d = er.diff
    if er.base is None and er.base_note != "new environment":
        return [f"> The base could not be planned: {er.base_note}. No diff is shown.", ""]
    if not (d.added or d.changed or d.removed):
        return ["No resource changes.", ""]
    lines: list[str] = []
    if d.added:
        lines += [f"**Added ({len(d.added)})**", ""]
        lines += [f"- {_label(r)}" for r in d.added]
        lines.append("")
    if d.changed:
        lines += [f"**Changed ({len(d.changed)})**", ""]
        for change in d.changed:
            lines.append(f"- {_label(change.resource)}")
            ignored = change.resource.get("ignoreChanges") or []
            for path, b, a in change.paths[:MAX_PATHS]:
                note = " (ignored on update: `ignoreChanges`)" if _ignored(path, ignored) else ""
                lines.append(
                    f"  - {_code(path)}: {_code(show_value(b))} → {_code(show_value(a))}{note}"
                )
            if len(change.paths) > MAX_PATHS:
                lines.append(f"  - … and {len(change.paths) - MAX_PATHS} more")
        lines.append("")
    lines += _teams_removed(er)
    if d.removed:
        lines += [f"**Removed ({len(d.removed)})**", ""]
        lines += [f"- {_label(r)}" for r in d.removed]
        lines.append("")
    return lines


TEAM_LABEL = "mlops.platform/team"


def _teams_removed(er: EnvReview) -> list[str]:
    """A team whose namespace goes: what goes with it and what stays (its data), said once
    above the removed resources."""
    teams = sorted(
        str(r["inputs"]["metadata"]["labels"][TEAM_LABEL])
        for r in er.diff.removed
        if r["type"] == "kubernetes:core/v1:Namespace"
        and TEAM_LABEL in ((r.get("inputs") or {}).get("metadata") or {}).get("labels", {})
    )
    purged: set[str] = set()
    for r in er.head.get("resources", []):
        spec = ((r.get("inputs") or {}).get("data") or {}).get("spec.json")
        if r["name"] == "mlflow-teams" and isinstance(spec, str):
            purged = set(json.loads(spec).get("purge", []))
    lines = []
    for team in teams:
        workspace = (
            "its MLflow workspace is **deleted** with its experiments and models (`purged_teams`)"
            if team in purged
            else "its MLflow workspace stays (`purged_teams` would delete it)"
        )
        lines.append(
            f"> **Team `{team}` removed**: its namespace, roles, runner and MLflow accounts go; "
            f"{workspace}; its prefix `teams/{team}/` of the artifact store stays."
        )
    return [*lines, ""] if lines else []


def _policy_section(er: EnvReview) -> list[str]:
    violations = _violations(er.head)
    if violations is None:
        return ["**Policies:** not evaluated in this plan.", ""]
    policies = er.head["policies"]
    before = {_vkey(v) for v in (_violations(er.base) or [])}
    after = {_vkey(v) for v in violations}
    mandatory = sum(1 for v in violations if v.get("enforcement") == "mandatory")
    lines = [
        f"**Policies** ({_code(str(policies.get('pack', '?')))}, "
        f"{policies.get('evaluated', 0)} evaluations): {mandatory} mandatory, "
        f"{len(violations) - mandatory} advisory violation(s)"
        + (f"; {len(before - after)} resolved by this change" if er.base else "")
        + ".",
        "",
    ]
    if not violations:
        return lines
    names = {r["urn"]: r["name"] for r in er.head.get("resources", [])}
    lines += ["| | enforcement | policy | resource | message |", "|---|---|---|---|---|"]
    ordered = sorted(
        violations,
        key=lambda v: (v.get("enforcement") != "mandatory", *_vkey(v)),
    )
    for v in ordered:
        new = "**new**" if er.base is not None and _vkey(v) not in before else ""
        urn = v.get("urn")
        where = names.get(urn, urn) if urn else "(stack)"
        lines.append(
            f"| {new} | {v.get('enforcement')} | {_code(str(v.get('policy')))} | "
            f"{_cell(str(where))} | {_cell(str(v.get('message')))} |"
        )
    lines.append("")
    return lines


def _cost_section(er: EnvReview) -> list[str]:
    head_cost = cost_of(er.head)
    base_cost = cost_of(er.base)
    if head_cost is None:
        return []
    if base_cost is None:
        return [f"**Monthly cost:** {_money(head_cost['monthly_usd'])}.", ""]
    delta = head_cost["monthly_usd"] - base_cost["monthly_usd"]
    lines = [
        f"**Monthly cost:** {_money(base_cost['monthly_usd'])} → "
        f"{_money(head_cost['monthly_usd'])} ({_delta(delta)}).",
        "",
    ]
    before = {i["urn"]: i for i in base_cost["items"]}
    after = {i["urn"]: i for i in head_cost["items"]}
    names = {r["urn"]: r["name"] for r in (er.base or {}).get("resources", [])}
    names.update({r["urn"]: r["name"] for r in er.head.get("resources", [])})
    moved = [
        u
        for u in sorted(before.keys() | after.keys())
        if (before.get(u) or {}).get("monthly_usd") != (after.get(u) or {}).get("monthly_usd")
        or (before.get(u) or {}).get("basis") != (after.get(u) or {}).get("basis")
    ]
    if not moved:
        return lines
    lines += ["| resource | before | after | delta | basis |", "|---|---:|---:|---:|---|"]
    for urn in moved:
        b, a = before.get(urn), after.get(urn)
        b_usd = float(b["monthly_usd"]) if b else 0.0
        a_usd = float(a["monthly_usd"]) if a else 0.0
        basis = (a or b or {}).get("basis", "")
        lines.append(
            f"| {_cell(names.get(urn, urn))} | {_money(b_usd) if b else '—'} | "
            f"{_money(a_usd) if a else '—'} | {_delta(a_usd - b_usd)} | {_cell(basis)} |"
        )
    lines.append("")
    return lines


def _scan_section(scan: ScanResult, env: str) -> list[str]:
    from mlops.scan import render_markdown

    return render_markdown(scan, only=env)


def render_review(
    base: BaseRef,
    reviews: Sequence[EnvReview],
    prices_as_of: str,
    scan: ScanResult | None = None,
) -> str:
    lines = [
        f"## Infrastructure review: {_code(base.ref)} ({base.short}) → working tree",
        "",
        "| environment | added | changed | removed | policy violations (mandatory / advisory) "
        "| monthly cost | delta |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    lines += [_summary_row(er) for er in reviews]
    lines.append("")
    for er in reviews:
        lines += [f"### {er.env}", ""]
        if er.base_note == "new environment":
            lines += ["New environment: not in the base.", ""]
        lines += _resources_section(er)
        lines += _policy_section(er)
        if scan is not None:
            lines += _scan_section(scan, er.env)
        lines += _cost_section(er)
    lines += [
        f"<sub>Planned offline under Pulumi mocks by `mlops review`. Costs: us-east-1 list "
        f"prices as of {prices_as_of}, provisioned capacity only (usage not estimated).</sub>",
        "",
    ]
    text = "\n".join(lines)
    if len(text) > MAX_COMMENT:
        cut = text.rfind("\n", 0, MAX_COMMENT - 200)
        text = (
            text[:cut] + "\n\n> The review was cut to fit a comment: "
            "run `mlops review` locally for all of it.\n"
        )
    return text


# ---------------------------------------------------------------- entry point


def environments(root: Path) -> list[str]:
    """The environments of a project: one per `Pulumi.<env>.yaml` in its stack config dir."""
    from mlops.engine.stack_config import load_project

    files = load_project(root).stack_config_dir.glob("Pulumi.*.yaml")
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in files)


def review(
    base_ref: str,
    envs: Sequence[str] | None = None,
    root: Path | None = None,
    *,
    scan: bool = False,
) -> str:
    """Plan the working tree and BASE_REF for ENVS and return the markdown comment; with
    ``scan``, checkov's findings on the working tree's plans too (`mlops scan`)."""
    from mlops.cost import load_prices
    from mlops.paths import project_root

    root = (root or project_root()).resolve()
    known = environments(root)
    selected = sorted(set(envs)) if envs else known
    unknown = [e for e in selected if e not in known]
    if unknown:
        raise UsageError(
            f"unknown environment {unknown[0]!r} (known: {', '.join(known) or 'none'})"
        )
    base = resolve_ref(root, base_ref)
    with base_worktree(base) as base_root:
        if not (base_root / "Pulumi.yaml").is_file():
            raise UsageError(f"{base_ref}: no Pulumi project at {base.project.as_posix() or '.'}")
        in_base = set(environments(base_root))
        head_plans, base_plans = plan_trees(
            [
                ("the working tree", root, selected),
                (f"base {base_ref}", base_root, [e for e in selected if e in in_base]),
            ]
        )
    reviews = []
    for env in selected:
        head = head_plans.results[env]
        if "error" in head:
            raise (UsageError if head["exit_code"] == 2 else PlanError)(f"{env}: {head['error']}")
        base_result = base_plans.results.get(env)
        if base_result is None:
            base_plan, note = None, "new environment"
        elif "error" in base_result:
            base_plan, note = None, str(base_result["error"])
        else:
            base_plan, note = base_result["plan"], None
        reviews.append(
            EnvReview(env, head["plan"], base_plan, note, diff_plans(env, base_plan, head["plan"]))
        )
    scanned = None
    if scan:
        from mlops.scan import scan_plans

        scanned = scan_plans(
            {
                env: {
                    **head_plans.results[env]["plan"],
                    "_states": head_plans.results[env]["states"],
                }
                for env in selected
            }
        )
    return render_review(base, reviews, load_prices().as_of, scanned)


def review_command(
    base: Annotated[
        str,
        typer.Option("--base", metavar="REF", help="Git ref to compare with, e.g. origin/main."),
    ],
    env: Annotated[
        list[str] | None,
        typer.Option("--env", metavar="ENV", help="Environment to review (repeat; default: all)."),
    ] = None,
    scan: Annotated[
        bool, typer.Option("--scan", help="Also run checkov on the working tree's plans.")
    ] = False,
) -> None:
    """Plan the working tree and BASE; print the PR comment: diff, policies, cost delta
    (and, with --scan, the scanner's findings)."""
    try:
        text = review(base, env, scan=scan)
    except MlopsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    sys.stdout.write(text)
