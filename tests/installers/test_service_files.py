"""The user-service files the installers write: systemd unit, launchd agent, Windows task."""

from __future__ import annotations

import plistlib
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pytest

INSTALLERS = Path(__file__).resolve().parents[2] / "installers"
TASK_NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def render(kind: str, out: Path, prefix: Path, bbj_home: str | None) -> Path:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/home/ada", "BBJ_CODER_PREFIX": str(prefix)}
    if bbj_home is not None:
        env["BBJ_CODER_HOME"] = bbj_home
    command = ["bash", str(INSTALLERS / "install.sh"), "--render-service", kind, str(out)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    files = list(out.iterdir())
    assert len(files) == 1
    return files[0]


def test_the_systemd_unit_runs_the_installed_daemon(tmp_path: Path) -> None:
    prefix = tmp_path / "my apps"  # a space must survive systemd's word splitting
    unit = render("systemd", tmp_path / "out", prefix, "/srv/bbj 100%")

    text = unit.read_text()
    assert unit.name == "bbj-coder.service"
    assert f'ExecStart="{prefix}/venv/bin/bbj-coder" serve\n' in text
    assert 'Environment="BBJ_CODER_HOME=/srv/bbj 100%%"\n' in text  # % is a systemd specifier
    assert "Restart=on-failure" in text and "WantedBy=default.target" in text
    assert re.search(r"@[A-Z_]+@", text) is None


def test_the_systemd_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    prefix = tmp_path / "prefix"
    binary = prefix / "venv" / "bin" / "bbj-coder"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    unit = render("systemd", tmp_path / "out", prefix, None)

    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "Environment=" not in unit.read_text()


def test_the_launchd_agent_is_a_valid_plist(tmp_path: Path) -> None:
    prefix = tmp_path / "R&D <tools>"  # XML specials must be escaped, not mangled
    plist = render("launchd", tmp_path / "out", prefix, "/Users/ada/bbj & co")

    data = plistlib.loads(plist.read_bytes())
    assert plist.name == "com.basis.bbj-coder.plist"
    assert data["Label"] == "com.basis.bbj-coder"
    assert data["ProgramArguments"] == [f"{prefix}/venv/bin/bbj-coder", "serve"]
    assert data["EnvironmentVariables"] == {"BBJ_CODER_HOME": "/Users/ada/bbj & co"}
    assert data["RunAtLoad"] is True
    assert data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["StandardErrorPath"] == "/home/ada/Library/Logs/bbj-coder/launchd.log"


def test_the_launchd_agent_has_no_environment_without_bbj_coder_home(tmp_path: Path) -> None:
    plist = render("launchd", tmp_path / "out", tmp_path / "p", None)
    assert "EnvironmentVariables" not in plistlib.loads(plist.read_bytes())


def test_the_windows_task_template_is_valid_task_xml() -> None:
    """install.ps1 fills these placeholders with escaped values (PowerShell is not here)."""
    template = (INSTALLERS / "service" / "bbj-coder-task.xml").read_text()
    pythonw = r"C:\Users\Ada & Co\AppData\Local\bbj-coder\venv\Scripts\pythonw.exe"
    values = {
        "@USER_ID@": r"CORP\ada",
        "@PYTHONW@": pythonw,
        "@WORKING_DIR@": r"C:\Users\Ada & Co\AppData\Local\bbj-coder",
    }
    for placeholder, value in values.items():
        assert placeholder in template
        template = template.replace(placeholder, escape(value))

    task = ElementTree.fromstring(template)

    exec_ = task.find("t:Actions/t:Exec", TASK_NS)
    assert exec_ is not None
    assert exec_.findtext("t:Command", namespaces=TASK_NS) == pythonw
    assert exec_.findtext("t:Arguments", namespaces=TASK_NS) == "-m daemon serve"
    trigger_user = task.findtext("t:Triggers/t:LogonTrigger/t:UserId", namespaces=TASK_NS)
    assert trigger_user == r"CORP\ada"
    principal = task.find("t:Principals/t:Principal", TASK_NS)
    assert principal is not None
    assert principal.findtext("t:RunLevel", namespaces=TASK_NS) == "LeastPrivilege"
    settings = task.find("t:Settings", TASK_NS)
    assert settings is not None
    assert settings.findtext("t:ExecutionTimeLimit", namespaces=TASK_NS) == "PT0S"
    assert settings.find("t:RestartOnFailure", TASK_NS) is not None


def test_install_ps1_renders_the_task_when_powershell_is_available(tmp_path: Path) -> None:
    pwsh = shutil.which("pwsh") or shutil.which("powershell")
    if pwsh is None:
        pytest.skip("PowerShell is not installed here")
    script = INSTALLERS / "install.ps1"
    command = [pwsh, "-NoProfile", "-File", str(script), "-RenderTask", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    task = ElementTree.parse(tmp_path / "bbj-coder-task.xml").getroot()
    assert task.findtext("t:Actions/t:Exec/t:Arguments", namespaces=TASK_NS) == "-m daemon serve"
