"""The tools' results (pydantic, so the SDK publishes each as the tool's ``outputSchema`` and
sends it as ``structuredContent``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DiagnosticOut(BaseModel):
    line: int = Field(description="1-based physical line (0 when the checker did not say).")
    column: int | None = Field(description="1-based column, when the checker knows it.")
    message: str
    severity: str = "error"


class ValidationOut(BaseModel):
    ok: bool = Field(description="True when the checker found no error.")
    checker: str = Field(description="'bbjcpl' (the BBj compiler) or 'builtin' (bbj-coder's).")
    diagnostics: list[DiagnosticOut]
    tool_error: str | None = Field(
        default=None, description="Set when the checker itself failed; ok is then false."
    )


class GenerationOut(BaseModel):
    code: str = Field(description="The last BBj code the model wrote ('' when none).")
    passed: bool = Field(description="True only when that code passed the checker.")
    checker: str
    attempts: int = Field(description="Generate→check rounds used.")
    generation: str = Field(description="The BBj generation named in the prompt.")
    errors: list[str] = Field(description="What the checker still reports (empty on a pass).")
    explanation: str = Field(description="What the model said besides the code.")


class CompletionOut(BaseModel):
    completion: str = Field(description="Text to insert at the cursor ('' when none passed).")
    checked: bool = Field(
        description="False when nothing was checked: the daemon's compile gate is off, or "
        "there was no completion to check."
    )
    passed: bool | None = Field(description="The compile gate's verdict, null when unchecked.")
    checker: str | None
    new_errors: list[str]
    finish_reason: str
    superseded: bool = Field(
        default=False,
        description="True when a newer request for the same client cancelled this one.",
    )


class ExplanationOut(BaseModel):
    line: int
    diagnostic: str | None = Field(description="The checker's error on or nearest that line.")
    explanation: str
    fixed_code: str | None = Field(description="A corrected program that passes, or null.")
    passed: bool = Field(description="True when fixed_code passed the checker.")
    checker: str
    attempts: int
    remaining_errors: list[str]


class SymbolOut(BaseModel):
    name: str
    kind: str
    path: str
    line: int
    signature: str | None = None
    container: str | None = None
    doc: str | None = None


class WorkspaceSearchOut(BaseModel):
    symbols: list[SymbolOut]
