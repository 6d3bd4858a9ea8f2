<#
.SYNOPSIS
Remove bbj-coder installed by install.ps1 (Windows).

.DESCRIPTION
Stops the daemon, removes the scheduled task, bbj-coder's entries in Continue.dev's config and
the private Python environment. Your models, config and token stay unless you pass
-RemoveModels. Safe to run twice.
#>
[CmdletBinding()]
param(
    # Where install.ps1 put the environment (default: this script's folder when it holds the
    # environment, else $env:BBJ_CODER_PREFIX, else %LOCALAPPDATA%\bbj-coder).
    [string]$Prefix = $(
        if (Test-Path -LiteralPath (Join-Path $PSScriptRoot 'venv\pyvenv.cfg')) { $PSScriptRoot }
        elseif ($env:BBJ_CODER_PREFIX) { $env:BBJ_CODER_PREFIX }
        else { Join-Path $env:LOCALAPPDATA 'bbj-coder' }
    ),
    # Also delete the installed models.
    [switch]$RemoveModels
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$VenvDir = Join-Path $Prefix 'venv'
$VenvPython = Join-Path $VenvDir 'Scripts\python.exe'
$Bbj = Join-Path $VenvDir 'Scripts\bbj-coder.exe'
$TaskName = 'bbj-coder'

function Add-Record([string]$Text) { Write-Host "    $Text" }

function Invoke-Program([string]$Exe, [string[]]$Arguments) {
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        $output = & $Exe @Arguments 2>$null
        return [pscustomobject]@{ Code = $LASTEXITCODE; Output = $output }
    } finally {
        $ErrorActionPreference = $previous
    }
}

Write-Host '==> Removing bbj-coder'
$modelsDir = ''
if (Test-Path -LiteralPath $VenvPython) {
    $modelsDir = "$((Invoke-Program $VenvPython @('-c', 'from daemon.paths import app_paths; print(app_paths().models_dir)')).Output)".Trim()
}

if (Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue) {
    Stop-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false
    Add-Record "scheduled task '$TaskName' removed"
}
if (Test-Path -LiteralPath $Bbj) {
    Add-Record "$((Invoke-Program $Bbj @('stop')).Output)"
}

$continueDir = if ($env:CONTINUE_GLOBAL_DIR) { $env:CONTINUE_GLOBAL_DIR } else { Join-Path $HOME '.continue' }
if ((Test-Path -LiteralPath $continueDir -PathType Container) -and (Test-Path -LiteralPath $VenvPython)) {
    $result = Invoke-Program $VenvPython @('-m', 'daemon', 'continue', 'uninstall')
    if ($result.Code -eq 0) { Add-Record 'Continue.dev: bbj-coder entries removed (everything else kept)' }
    else { Add-Record 'Continue.dev: could not remove the bbj-coder entries; remove them by hand' }
}

if (Test-Path -LiteralPath $VenvDir) {
    if (-not (Test-Path -LiteralPath (Join-Path $VenvDir 'pyvenv.cfg'))) {
        [Console]::Error.WriteLine("uninstall.ps1: $VenvDir is not a Python environment; refusing to delete it.")
        exit 1
    }
    Remove-Item -LiteralPath $VenvDir -Recurse -Force
    Add-Record "environment removed: $VenvDir"
} else {
    Add-Record "no environment at $VenvDir (already removed)"
}

if (-not $modelsDir) {
    Add-Record 'models: location unknown (no environment left); nothing deleted'
} elseif ($RemoveModels -and (Test-Path -LiteralPath $modelsDir)) {
    Remove-Item -LiteralPath $modelsDir -Recurse -Force
    Add-Record "models removed: $modelsDir"
} else {
    Add-Record "models kept: $modelsDir (-RemoveModels deletes them); config and token kept"
}
Remove-Item -LiteralPath (Join-Path $Prefix 'uninstall.ps1') -ErrorAction SilentlyContinue
if ((Test-Path -LiteralPath $Prefix) -and -not (Get-ChildItem -LiteralPath $Prefix -Force)) {
    Remove-Item -LiteralPath $Prefix
}
Write-Host '==> Done'
