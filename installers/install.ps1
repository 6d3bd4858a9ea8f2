<#
.SYNOPSIS
Install bbj-coder from this offline bundle on Windows. Nothing is downloaded, ever.

.DESCRIPTION
Checks every file against SHA256SUMS first (and refuses a damaged bundle before touching
anything), creates a private Python environment, installs bbj-coder from the bundle's
wheelhouse only, imports the models, points Continue.dev at the daemon when Continue is
installed, registers a scheduled task that starts the daemon at logon, starts it and runs
the health check. Safe to run again: an upgrade keeps your config, token and models.

.EXAMPLE
powershell -ExecutionPolicy Bypass -File install.ps1
powershell -ExecutionPolicy Bypass -File install.ps1 -NoService -Provider openai
#>
[CmdletBinding()]
param(
    # Where the private Python environment goes (default: $env:BBJ_CODER_PREFIX, else
    # %LOCALAPPDATA%\bbj-coder).
    [string]$Prefix = $(if ($env:BBJ_CODER_PREFIX) { $env:BBJ_CODER_PREFIX } else { Join-Path $env:LOCALAPPDATA 'bbj-coder' }),
    # Do not register or start the scheduled task.
    [switch]$NoService,
    # Do not touch Continue.dev's config.
    [switch]$NoContinue,
    # How Continue talks to the daemon.
    [ValidateSet('ollama', 'openai')][string]$Provider = 'ollama',
    # The python.exe to use (default: the py launcher's Python of the bundle's version).
    [string]$Python = $env:PYTHON,
    # Only write the scheduled task's XML into this folder, then exit.
    [string]$RenderTask
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$BundleDir = $PSScriptRoot
$Summary = New-Object System.Collections.Generic.List[string]
$VenvDir = Join-Path $Prefix 'venv'
$VenvPython = Join-Path $VenvDir 'Scripts\python.exe'
$VenvPythonw = Join-Path $VenvDir 'Scripts\pythonw.exe'
$Bbj = Join-Path $VenvDir 'Scripts\bbj-coder.exe'
$TaskName = 'bbj-coder'

function Write-Step([string]$Text) { Write-Host ''; Write-Host "==> $Text" }
function Add-Record([string]$Text) { $Summary.Add($Text); Write-Host "    $Text" }
function Stop-Install([string]$Text) {
    [Console]::Error.WriteLine("install.ps1: $Text")
    exit 1
}

# Runs a native program without letting its stderr turn into a PowerShell error. By default
# its output goes to the console; -Capture returns stdout, -Quiet also drops stderr.
function Invoke-Program([string]$Exe, [string[]]$Arguments, [switch]$Capture, [switch]$Quiet) {
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        $output = $null
        if ($Quiet) { $output = & $Exe @Arguments 2>$null }
        elseif ($Capture) { $output = & $Exe @Arguments }
        else { & $Exe @Arguments | Out-Host }
        return [pscustomobject]@{ Code = $LASTEXITCODE; Output = $output }
    } finally {
        $ErrorActionPreference = $previous
    }
}

function Test-Bundle {
    Write-Step 'Checking the bundle against SHA256SUMS'
    $sums = Join-Path $BundleDir 'SHA256SUMS'
    if (-not (Test-Path -LiteralPath $sums -PathType Leaf)) {
        Stop-Install "SHA256SUMS is missing from ${BundleDir}: the bundle is incomplete. Nothing was installed."
    }
    $bad = New-Object System.Collections.Generic.List[string]
    $count = 0
    foreach ($line in Get-Content -LiteralPath $sums) {
        if (-not $line.Trim()) { continue }
        $count++
        $expected, $relative = $line -split '\s+', 2
        if ($relative -match '^[/\\]|\.\.|:') { $bad.Add("$relative (unsafe path)"); continue }
        $path = Join-Path $BundleDir ($relative -replace '/', '\')
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { $bad.Add("$relative (missing)"); continue }
        $actual = (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant()
        if ($actual -ne $expected) { $bad.Add("$relative (changed)") }
    }
    if ($bad.Count -gt 0) {
        foreach ($item in $bad) { [Console]::Error.WriteLine("    $item") }
        Stop-Install "the bundle is damaged or was modified ($($bad.Count) of $count files above). Nothing was installed: copy the bundle again and check the archive's checksum."
    }
    Add-Record "bundle verified: $count files match SHA256SUMS"
}

function Get-PythonVersion([string]$Exe) {
    $result = Invoke-Program $Exe @('-c', 'import sys; print(*sys.version_info[:2], sep=chr(46))') -Quiet
    if ($result.Code -ne 0) { return '' }
    return "$($result.Output)".Trim()
}

function Find-Python([string]$Want) {
    if ($Python) { return $Python }
    if (Get-Command py -ErrorAction SilentlyContinue) {
        $result = Invoke-Program 'py' @("-$Want", '-c', 'import sys; print(sys.executable)') -Quiet
        if ($result.Code -eq 0 -and $result.Output) { return "$($result.Output)".Trim() }
    }
    $command = Get-Command python -ErrorAction SilentlyContinue
    if ($command) { return $command.Source }
    Stop-Install "Python $Want was not found. Install it (the python.org installer, 'for me only' is enough) or pass -Python C:\path\to\python.exe. Nothing was installed."
}

function New-Venv([string]$Interpreter, [string]$Want) {
    Write-Step "Private Python environment in $VenvDir"
    $usable = (Test-Path -LiteralPath $VenvPython) -and (Get-PythonVersion $VenvPython) -eq $Want
    if ($usable -and (Invoke-Program $VenvPython @('-c', 'import pip') -Quiet).Code -eq 0) {
        Add-Record "environment kept: $VenvDir"
        return
    }
    if (Test-Path -LiteralPath $VenvDir) {
        if (-not (Test-Path -LiteralPath (Join-Path $VenvDir 'pyvenv.cfg'))) {
            Stop-Install "$VenvDir exists but is not a Python environment; move it away or pass -Prefix."
        }
        Remove-Item -LiteralPath $VenvDir -Recurse -Force
    }
    New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
    if ((Invoke-Program $Interpreter @('-m', 'venv', $VenvDir)).Code -ne 0) {
        Remove-Item -LiteralPath $VenvDir -Recurse -Force -ErrorAction SilentlyContinue
        Stop-Install "could not create $VenvDir with $Interpreter."
    }
    Add-Record "environment created: $VenvDir"
}

function Install-Package([string]$Version) {
    Write-Step "Installing bbj-coder $Version from the bundle's wheelhouse (no network)"
    $before = 'none'
    if (Test-Path -LiteralPath $Bbj) { $before = "$((Invoke-Program $Bbj @('--version') -Quiet).Output)" }
    $wheelhouse = Join-Path $BundleDir 'wheelhouse'
    $arguments = @('-m', 'pip', 'install', '--quiet', '--no-index', '--find-links', $wheelhouse, '--upgrade', "bbj-coder==$Version")
    if ((Invoke-Program $VenvPython $arguments).Code -ne 0) {
        Stop-Install 'pip could not install bbj-coder from the wheelhouse (see above). Was the bundle built for Windows and this Python version?'
    }
    $after = "$((Invoke-Program $Bbj @('--version') -Quiet).Output)"
    $script:Upgraded = $before -ne $after
    if ($script:Upgraded) { Add-Record "$after installed (was: $before)" } else { Add-Record "$after already installed" }
}

function Initialize-State {
    Write-Step 'Token, config and models'
    $result = Invoke-Program $VenvPython @('-m', 'daemon', 'bundle', 'setup', $BundleDir) -Capture
    if ($result.Code -ne 0) { Stop-Install 'setting up the token, config or models failed (see above).' }
    foreach ($line in $result.Output) {
        $text = "$line".Trim()
        if ($text) { Add-Record $text }
    }
}

function Set-Continue {
    Write-Step 'Continue.dev'
    $folder = if ($env:CONTINUE_GLOBAL_DIR) { $env:CONTINUE_GLOBAL_DIR } else { Join-Path $HOME '.continue' }
    if ($NoContinue) { Add-Record 'Continue.dev left alone (-NoContinue)'; return }
    if (-not (Test-Path -LiteralPath $folder -PathType Container)) {
        Add-Record "Continue.dev not found ($folder); after installing it run: bbj-coder continue install"
        return
    }
    $result = Invoke-Program $VenvPython @('-m', 'daemon', 'continue', 'install', '--provider', $Provider)
    if ($result.Code -eq 0) { Add-Record "Continue.dev points at bbj-coder ($Provider)" }
    else { Add-Record 'Continue.dev NOT configured (see the message above); fix it, then run: bbj-coder continue install' }
}

function Get-TaskXml {
    $escape = { param($text) [System.Security.SecurityElement]::Escape($text) }
    $user = [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
    $xml = Get-Content -LiteralPath (Join-Path $BundleDir 'service\bbj-coder-task.xml') -Raw
    $xml = $xml.Replace('@USER_ID@', (& $escape $user))
    $xml = $xml.Replace('@PYTHONW@', (& $escape $VenvPythonw))
    return $xml.Replace('@WORKING_DIR@', (& $escape $Prefix))
}

# True once the daemon answers healthy; after 60 s, true if it at least answers.
function Wait-Daemon {
    $code = 3
    for ($i = 0; $i -lt 120; $i++) {
        $code = (Invoke-Program $Bbj @('status') -Quiet).Code
        if ($code -eq 0) { return $true }
        Start-Sleep -Milliseconds 500
    }
    return $code -ne 3
}

function Invoke-Doctor {
    Write-Step 'Health check'
    return (Invoke-Program $Bbj @('doctor')).Code -eq 0
}

function Register-Daemon {
    Write-Step 'Scheduled task'
    if ($NoService) {
        # No task: start the daemon for this session in the background, then check it.
        Add-Record 'task not registered (-NoService)'
        if ($script:Upgraded) { Invoke-Program $Bbj @('stop') -Quiet | Out-Null }
        if ((Invoke-Program $Bbj @('serve', '--detach')).Code -eq 0) {
            Add-Record "daemon started in the background; after a reboot run: `"$Bbj`" serve --detach"
            if (Invoke-Doctor) { Add-Record 'health check passed' }
            else { Add-Record 'health check found problems (see above)'; $script:HealthFailed = $true }
        } else {
            Add-Record "daemon did NOT start (see above); after fixing it run: `"$Bbj`" serve --detach"
            $script:HealthFailed = $true
        }
        return
    }
    $existing = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    $xml = Get-TaskXml
    Register-ScheduledTask -TaskName $TaskName -Xml $xml -Force | Out-Null
    if ($existing -and $script:Upgraded) { Stop-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue }
    Start-ScheduledTask -TaskName $TaskName
    Add-Record "scheduled task '$TaskName' registered (starts at logon) and started"
    if (-not (Wait-Daemon)) { Stop-Install "the daemon did not start within 60 s; see `"$Bbj`" status and the daemon log." }
    if (Invoke-Doctor) { Add-Record 'health check passed' }
    else { Add-Record 'health check found problems (see above)'; $script:HealthFailed = $true }
}

if ($RenderTask) {
    New-Item -ItemType Directory -Force -Path $RenderTask | Out-Null
    Set-Content -LiteralPath (Join-Path $RenderTask 'bbj-coder-task.xml') -Value (Get-TaskXml) -Encoding UTF8
    exit 0
}

# pip must never reach a network, a pip.ini or PIP_* settings: only the bundle's wheelhouse.
Get-ChildItem env: | Where-Object { $_.Name -like 'PIP_*' } | ForEach-Object { Remove-Item -LiteralPath "env:$($_.Name)" }
$env:PIP_NO_INDEX = '1'
$env:PIP_CONFIG_FILE = 'nul'
$env:PIP_DISABLE_PIP_VERSION_CHECK = '1'
$script:Upgraded = $false
$script:HealthFailed = $false

Test-Bundle
$info = Get-Content -LiteralPath (Join-Path $BundleDir 'bundle.json') -Raw | ConvertFrom-Json
$interpreter = Find-Python $info.python
$have = Get-PythonVersion $interpreter
if ($have -ne $info.python) {
    Stop-Install "this bundle was built for Python $($info.python) but $interpreter is Python '$have'. Pass -Python with a Python $($info.python), or build a bundle for $have. Nothing was installed."
}
New-Venv $interpreter $info.python
Install-Package $info.version
Initialize-State
Copy-Item -LiteralPath (Join-Path $BundleDir 'uninstall.ps1') -Destination (Join-Path $Prefix 'uninstall.ps1') -Force
Set-Continue
Register-Daemon

Write-Step 'Done'
foreach ($line in $Summary) { Write-Host "    $line" }
Write-Host "    command: $Bbj"
Write-Host "    uninstall later with: powershell -ExecutionPolicy Bypass -File `"$(Join-Path $Prefix 'uninstall.ps1')`""
if ($script:HealthFailed) { exit 1 }
