"""Lookup tables for `hotpapers.render.tex`: TeX commands and the Unicode they become."""

from __future__ import annotations

# \epsilon is drawn ϵ in TeX, but readers know ε: both variants read as ε.
GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ",
    "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip

# Ordinary symbols: written as they are, no spacing added.
SYMBOLS = {
    "infty": "∞", "partial": "∂", "nabla": "∇", "ell": "ℓ", "hbar": "ℏ", "emptyset": "∅",
    "varnothing": "∅", "sum": "∑", "prod": "∏", "int": "∫", "oint": "∮", "ldots": "…",
    "dots": "…", "cdots": "⋯", "prime": "′", "top": "⊤", "bot": "⊥", "angle": "∠",
    "forall": "∀", "exists": "∃", "neg": "¬", "lnot": "¬", "langle": "⟨", "rangle": "⟩",
    "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋", "Vert": "‖", "|": "‖",
    "vert": "|", "lvert": "|", "rvert": "|", "lVert": "‖", "rVert": "‖", "star": "⋆",
    "dagger": "†", "bullet": "•", "checkmark": "✓", "{": "{", "}": "}", "$": "$", "%": "%",
    "&": "&", "#": "#", "_": "_", "aleph": "ℵ", "Re": "ℜ", "Im": "ℑ",
}  # fmt: skip

# Relations and binary operators: a space either side when they stand between two operands.
OPERATORS = {
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈",
    "sim": "∼", "simeq": "≃", "cong": "≅", "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫",
    "lesssim": "≲", "gtrsim": "≳", "in": "∈", "notin": "∉", "ni": "∋", "subset": "⊂",
    "subseteq": "⊆", "supset": "⊃", "supseteq": "⊇", "cup": "∪", "cap": "∩", "setminus": "∖",
    "times": "×", "cdot": "·", "pm": "±", "mp": "∓", "div": "÷", "otimes": "⊗", "oplus": "⊕",
    "odot": "⊙", "circ": "∘", "ast": "∗", "to": "→", "rightarrow": "→", "leftarrow": "←",
    "gets": "←", "Rightarrow": "⇒", "Leftarrow": "⇐", "iff": "⟺", "implies": "⟹",
    "leftrightarrow": "↔", "mapsto": "↦", "land": "∧", "wedge": "∧", "lor": "∨", "vee": "∨",
    "mid": "|", "coloneqq": "≔", "vdash": "⊢", "models": "⊨", "perp": "⊥", "prec": "≺",
    "succ": "≻", "preceq": "⪯", "succeq": "⪰", "bmod": "mod",
}  # fmt: skip

FUNCTIONS = frozenset(
    [
        "log",
        "ln",
        "lg",
        "exp",
        "sin",
        "cos",
        "tan",
        "sinh",
        "cosh",
        "tanh",
        "arg",
        "max",
        "min",
        "sup",
        "inf",
        "lim",
        "det",
        "dim",
        "ker",
        "Pr",
        "gcd",
        "deg",
        "argmax",
        "argmin",
    ]
)

# Spacing commands; TeX's own spacing is not worth reproducing, a space (or none) reads well.
SPACES = {",": " ", ";": " ", ":": " ", " ": " ", "quad": " ", "qquad": " ", "!": ""}

# Sizing and style switches that change nothing a reader of plain text would see.
IGNORED = frozenset(
    [
        "left",
        "right",
        "big",
        "Big",
        "bigg",
        "Bigg",
        "bigl",
        "bigr",
        "Bigl",
        "Bigr",
        "biggl",
        "biggr",
        "displaystyle",
        "textstyle",
        "scriptstyle",
        "limits",
        "nolimits",
    ]
)

# Accents over a single character, as combining marks.
ACCENTS = {
    "hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303",
    "bar": "\u0304", "overline": "\u0305", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308",
}  # fmt: skip

# Font commands whose argument is maths written in plain letters.
PLAIN_FONTS = frozenset(
    ["mathrm", "mathit", "mathbf", "mathsf", "mathtt", "boldsymbol", "bm", "mathnormal"]
)
# Commands whose argument is text, spaces and all.
TEXT_COMMANDS = frozenset(
    ["text", "textrm", "textit", "textbf", "texttt", "textsf", "mbox", "emph"]
)


def _alphabet(upper: int, lower: int | None, holes: dict[str, str]) -> dict[str, str]:
    """A mathematical alphabet: Unicode leaves holes where the letter existed before."""
    table = {chr(65 + i): chr(upper + i) for i in range(26)}
    if lower is not None:
        table.update({chr(97 + i): chr(lower + i) for i in range(26)})
    table.update(holes)
    return table


DOUBLE_STRUCK = _alphabet(
    0x1D538, 0x1D552, {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ", "Z": "ℤ"}
) | {str(d): chr(0x1D7D8 + d) for d in range(10)}
SCRIPT = _alphabet(
    0x1D49C,
    0x1D4B6,
    {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ", "R": "ℛ",
     "e": "ℯ", "g": "ℊ", "o": "ℴ"},
)  # fmt: skip
FRAKTUR = _alphabet(0x1D504, 0x1D51E, {"C": "ℭ", "H": "ℌ", "I": "ℑ", "R": "ℜ", "Z": "ℨ"})
ALPHABETS = {
    "mathbb": DOUBLE_STRUCK,
    "mathcal": SCRIPT,
    "mathscr": SCRIPT,
    "mathfrak": FRAKTUR,
}

SUPERSCRIPTS = dict(
    zip(
        "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδφχ⊤*′",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵠᵡᵀ*′",
        strict=True,
    )
)
SUBSCRIPTS = dict(
    zip(
        "0123456789+-−=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
        strict=True,
    )
)
