"""`mlops scan`: checkov on every environment's plan, beside the policy pack.

Each plan is written as Terraform plan JSON (mlops/terraform_plan.py) and its Kubernetes
objects as manifests; one checkov run (its own venv, .venv-scan: `make venv-scan`)
evaluates both with the `terraform_plan` and `kubernetes` frameworks. A failed check is
accepted only when scan/suppressions.yaml lists it with a reason; anything else fails
the scan. Helm releases are not scanned: their charts are not rendered offline.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mlops import resource_types, terraform_plan
from mlops.errors import MlopsError, UsageError
from mlops.manifests import kubernetes_objects

ROOT = Path(__file__).resolve().parents[1]
SUPPRESSIONS = ROOT / "scan" / "suppressions.yaml"
SCAN_VENV = ROOT / ".venv-scan"
Framework = Literal["terraform_plan", "kubernetes"]
FRAMEWORKS: tuple[Framework, ...] = ("terraform_plan", "kubernetes")
PLAN_FILE = "plan.json"
MANIFESTS = "manifests"

Json = dict[str, Any]


class Suppression(BaseModel):
    """One accepted finding: a check, why, and optionally where."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str = Field(pattern=r"^CKV2?_[A-Z0-9]+_\d+$")
    reason: str
    # checkov's resource names (`aws_s3_bucket.artifacts`, `Deployment.mlflow.mlflow`),
    # shell patterns allowed; none: every resource
    resources: tuple[str, ...] = ()
    # none: every environment
    environments: tuple[str, ...] = ()

    @field_validator("reason")
    @classmethod
    def _a_sentence(cls, value: str) -> str:
        if len(value.split()) < 8:
            raise ValueError("say why in a sentence a reviewer can check (8 words or more)")
        return value

    def matches(self, env: str, check: str, resource: str) -> bool:
        return (
            check == self.check
            and (not self.environments or env in self.environments)
            and (
                not self.resources or any(fnmatch.fnmatchcase(resource, p) for p in self.resources)
            )
        )


class Suppressions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    terraform_plan: tuple[Suppression, ...] = ()
    kubernetes: tuple[Suppression, ...] = ()

    def of(self, framework: Framework) -> tuple[Suppression, ...]:
        return self.terraform_plan if framework == "terraform_plan" else self.kubernetes


def load_suppressions(path: Path = SUPPRESSIONS) -> Suppressions:
    shown = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise UsageError(f"{shown}: no such suppression file") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{shown}: not YAML ({str(exc).splitlines()[0]})") from None
    try:
        return Suppressions.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UsageError(f"{shown}: {where}: {err['msg']}") from None


@dataclass(frozen=True)
class Finding:
    check: str
    name: str
    resource: str
    reason: str | None = None  # the suppression's, when suppressed


@dataclass
class FrameworkResult:
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    resources: int = 0

    def as_json(self) -> Json:
        return {
            "passed": self.passed,
            "failed": [vars(f) | {"reason": None} for f in self.failed],
            "suppressed": [vars(f) for f in self.suppressed],
            "resources": self.resources,
        }


@dataclass
class ScanResult:
    checkov_version: str
    seconds: float
    environments: dict[str, dict[Framework, FrameworkResult]]
    exported: dict[str, int]  # Terraform resources written per environment
    unused: list[tuple[Framework, Suppression]]
    # resources checkov parsed per framework, all environments together (its summary)
    read: dict[str, int] = field(default_factory=dict)
    reports: list[Json] = field(default_factory=list, repr=False)  # checkov's own output

    @property
    def failed(self) -> int:
        return sum(len(r.failed) for fw in self.environments.values() for r in fw.values())

    def as_json(self) -> Json:
        return {
            "checkov_version": self.checkov_version,
            "resources_read": dict(sorted(self.read.items())),
            "seconds": round(self.seconds, 1),
            "environments": {
                env: {
                    "terraform_resources": self.exported[env],
                    **{fw: res.as_json() for fw, res in by_fw.items()},
                }
                for env, by_fw in self.environments.items()
            },
            "unused_suppressions": [
                {
                    "framework": fw,
                    "check": s.check,
                    "resources": list(s.resources),
                    "environments": list(s.environments),
                }
                for fw, s in self.unused
            ],
        }


def write_terraform_plan(plan: Mapping[str, Any], path: Path) -> int:
    """Write the plan as Terraform plan JSON; the number of resources written."""
    doc = terraform_plan.export(plan, resource_types.load())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return len(doc["planned_values"]["root_module"]["resources"])


def write_objects(plan: Mapping[str, Any], directory: Path) -> int:
    """Write the plan's Kubernetes objects (not its Helm releases) for the scanner."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for filename, obj in kubernetes_objects(dict(plan)):
        # a Helm release is a description of a chart, not an object a cluster would take
        if not ("apiVersion" in obj and "kind" in obj):
            continue
        (directory / filename).write_text(yaml.safe_dump(obj, sort_keys=True))
        count += 1
    return count


def checkov_path() -> Path:
    path = SCAN_VENV / "bin" / "checkov"
    if not path.is_file():
        raise UsageError(f"{path.relative_to(ROOT)}: not installed (run `make venv-scan`)")
    return path


def _reports(stdout: str, stderr: str) -> list[Json]:
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError:
        tail = (stderr.strip().splitlines() or stdout.strip().splitlines() or ["no output"])[-1]
        raise MlopsError(f"checkov did not report: {tail}") from None
    return doc if isinstance(doc, list) else [doc]


def run_checkov(directory: Path) -> tuple[list[Json], float]:
    """checkov on everything under ``directory``: (its JSON reports, seconds)."""
    env = {**os.environ, "LOG_LEVEL": "ERROR"}
    started = time.monotonic()
    done = subprocess.run(
        [
            str(checkov_path()),
            "--directory",
            str(directory),
            "--framework",
            *FRAMEWORKS,
            "--output",
            "json",
            # offline: no platform mappings, no guidelines, no module downloads
            "--skip-download",
            "--download-external-modules",
            "false",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return _reports(done.stdout, done.stderr), time.monotonic() - started


def _env_of(file_path: str) -> str:
    return file_path.lstrip("/").split("/", 1)[0]


def judge(
    reports: Sequence[Json], envs: Sequence[str], suppressions: Suppressions
) -> tuple[
    dict[str, dict[Framework, FrameworkResult]],
    list[tuple[Framework, Suppression]],
    str,
    dict[str, int],
]:
    """Per environment and framework: passed, failed, suppressed; the unused suppressions."""
    results: dict[str, dict[Framework, FrameworkResult]] = {
        env: {fw: FrameworkResult() for fw in FRAMEWORKS} for env in envs
    }
    used: set[tuple[Framework, Suppression]] = set()
    version = ""
    read: dict[str, int] = {}
    for report in reports:
        version = version or str((report.get("summary") or report).get("checkov_version", ""))
        framework = report.get("check_type")
        if framework not in FRAMEWORKS:
            continue  # a summary-only report: that framework found nothing to scan
        read[framework] = int((report.get("summary") or {}).get("resource_count", 0))
        checks = report.get("results") or {}
        resources: dict[str, set[str]] = {}
        for outcome in ("passed_checks", "failed_checks"):
            for c in checks.get(outcome) or []:
                env = _env_of(c["file_path"])
                if env not in results:
                    continue
                target = results[env][framework]
                resources.setdefault(env, set()).add(c["resource"])
                if outcome == "passed_checks":
                    target.passed += 1
                    continue
                finding = Finding(c["check_id"], c.get("check_name", ""), c["resource"])
                rule = next(
                    (
                        s
                        for s in suppressions.of(framework)
                        if s.matches(env, finding.check, finding.resource)
                    ),
                    None,
                )
                if rule is None:
                    target.failed.append(finding)
                else:
                    used.add((framework, rule))
                    target.suppressed.append(
                        Finding(finding.check, finding.name, finding.resource, rule.reason)
                    )
        for env, names in resources.items():
            results[env][framework].resources = len(names)
    for by_fw in results.values():
        for res in by_fw.values():
            res.failed.sort(key=lambda f: (f.check, f.resource))
            res.suppressed.sort(key=lambda f: (f.check, f.resource))
    # a suppression is unused only if it names environments that were all scanned
    unused = [
        (fw, s)
        for fw in FRAMEWORKS
        for s in suppressions.of(fw)
        if (fw, s) not in used and set(s.environments or envs) <= set(envs)
    ]
    return results, unused, version, read


def scan_plans(
    plans: Mapping[str, Mapping[str, Any]],
    suppressions: Suppressions | None = None,
    keep: Path | None = None,
) -> ScanResult:
    """Scan already-made plans (environment name -> plan) in one checkov run."""
    rules = suppressions if suppressions is not None else load_suppressions()
    checkov_path()
    with tempfile.TemporaryDirectory(prefix="mlops-scan-") as tmp:
        work = keep or Path(tmp)
        exported = {}
        for env, plan in plans.items():
            exported[env] = write_terraform_plan(plan, work / env / PLAN_FILE)
            write_objects(plan, work / env / MANIFESTS)
        reports, seconds = run_checkov(work)
    results, unused, version, read = judge(reports, list(plans), rules)
    if problem := unread(reports, sum(exported.values())):
        raise MlopsError(f"checkov did not read the whole plan: {problem}")
    return ScanResult(version, seconds, results, exported, unused, read, reports)


def unread(reports: Sequence[Json], exported: int) -> str | None:
    """Why checkov's reports do not cover what was written for it, or None.

    A file checkov cannot parse, or a plan it reads fewer resources of than were written,
    would otherwise pass with nothing failed: the scan fails closed instead."""
    errors = sum(int((r.get("summary") or {}).get("parsing_errors", 0) or 0) for r in reports)
    if errors:
        return f"{errors} file(s) it could not parse"
    read = sum(
        int((r.get("summary") or {}).get("resource_count", 0) or 0)
        for r in reports
        if r.get("check_type") == "terraform_plan"
    )
    if read < exported:
        return f"{read} of the {exported} resources exported as Terraform plan JSON"
    return None


def render_text(result: ScanResult) -> str:
    lines = [f"checkov {result.checkov_version}: {result.seconds:.1f} s"]
    for env, by_fw in result.environments.items():
        for fw, res in by_fw.items():
            extra = f", {result.exported[env]} resources exported" if fw == "terraform_plan" else ""
            lines.append(
                f"{env} {fw}: {len(res.failed)} failed, {res.passed} passed, "
                f"{len(res.suppressed)} suppressed ({res.resources} resources{extra})"
            )
            lines += [f"  FAILED {f.check} {f.resource}: {f.name}" for f in res.failed]
    lines += [
        f"unused suppression: {fw} {s.check} {', '.join(s.resources) or '(every resource)'}"
        for fw, s in result.unused
    ]
    return "\n".join(lines) + "\n"


def render_markdown(result: ScanResult, only: str | None = None) -> list[str]:
    """The scanner's part of the PR comment (one environment's, with ``only``)."""
    envs = [e for e in result.environments if only is None or e == only]
    lines = [
        f"**Scanner** (checkov {result.checkov_version}, suppressions: `scan/suppressions.yaml`)",
        "",
        "| framework | failed | passed | suppressed |",
        "|---|---:|---:|---:|",
    ]
    for env in envs:
        for fw, res in result.environments[env].items():
            name = fw if only else f"{env} {fw}"
            lines.append(f"| {name} | {len(res.failed)} | {res.passed} | {len(res.suppressed)} |")
    failed = [
        (fw, f) for env in envs for fw, res in result.environments[env].items() for f in res.failed
    ]
    if failed:
        lines += ["", "| framework | check | resource | |", "|---|---|---|---|"]
        lines += [f"| {fw} | `{f.check}` | `{f.resource}` | {f.name} |" for fw, f in failed]
    lines.append("")
    return lines
