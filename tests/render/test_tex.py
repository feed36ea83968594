"""TeX in titles and abstracts: Unicode for Discord and X, safe MathML for the site."""

from __future__ import annotations

import pytest
from lxml import etree
from markupsafe import escape

from hotpapers.render.tex import to_html, to_unicode

# (arXiv-style snippet, what a Discord or X reader sees)
CASES = [
    (r"$\alpha$-stable processes", "α-stable processes"),
    (r"Sorting in $O(n \log n)$ time", "Sorting in O(n log n) time"),
    (r"an $\mathcal{O}(n\log n)$ algorithm", "an 𝒪(n log n) algorithm"),
    (r"embeddings $x \in \mathbb{R}^n$", "embeddings x ∈ ℝⁿ"),
    (r"for all $x\in\mathbb{R}^d$", "for all x ∈ ℝᵈ"),
    (r"the $\ell_1$ norm", "the ℓ₁ norm"),
    (r"an $\ell_2$-regularised loss", "an ℓ₂-regularised loss"),
    (r"$x^2$ and $x_1$", "x² and x₁"),
    (r"with $n^{k+1}$ terms", "with nᵏ⁺¹ terms"),
    (r"a $10^{-3}$ learning rate", "a 10⁻³ learning rate"),
    (r"rate $\eta_{t+1}$", "rate ηₜ₊₁"),
    (r"weights $W_{ij}$", "weights Wᵢⱼ"),
    (r"of order $x_b$", "of order x_b"),
    (r"error $\epsilon_{\max}$", "error εₘₐₓ"),
    (r"the $2^{q+1}$ factor", "the 2^(q+1) factor"),
    (r"$\varepsilon$-differential privacy", "ε-differential privacy"),
    (r"$(\epsilon, \delta)$-DP", "(ε, δ)-DP"),
    (r"for $k \leq n$", "for k ≤ n"),
    (r"if $p\geq 1/2$", "if p ≥ 1/2"),
    (r"when $N \to \infty$", "when N → ∞"),
    (r"a $3\times 3$ kernel", "a 3 × 3 kernel"),
    (r"$\sim 10^4$ samples", "∼10⁴ samples"),
    (r"$x \sim \mathcal{N}(0, 1)$", "x ∼ 𝒩(0, 1)"),
    (r"$\approx 2\times$ faster", "≈2× faster"),
    (r"$a \cdot b$", "a · b"),
    (r"complexity $\mathcal{O}(\sqrt{n})$", "complexity 𝒪(√n)"),
    (r"bound $\sqrt{n+1}$", "bound √(n+1)"),
    (r"a $\frac{1}{2}$-approximation", "a 1/2-approximation"),
    (r"rate $\frac{n+1}{2}$", "rate (n+1)/2"),
    (r"$\tfrac{\log n}{n}$ regret", "(log n)/n regret"),
    (r"regret $\tilde{O}(\sqrt{T})$", "regret Õ(√T)"),
    (r"estimator $\hat{\theta}_n$", "estimator θ̂ₙ"),
    (r"vector $\vec{v}$", "vector v⃗"),
    (r"the $\mathrm{SO}(3)$ group", "the SO(3) group"),
    (r"$\mathbb{Z}_p$-modules", "ℤₚ-modules"),
    (r"over $\mathbb{F}_2$", "over 𝔽₂"),
    (r"loss $\mathcal{L}_{\text{CE}}$", "loss ℒ_CE"),
    (r"$f(x) = \text{softmax}(Wx)$", "f(x) = softmax(Wx)"),
    (r"$\log_2 n$ bits", "log₂ n bits"),
    (r"$\exp(-t)$ decay", "exp(-t) decay"),
    (r"$\Omega(n^2)$ lower bound", "Ω(n²) lower bound"),
    (r"the $\Lambda$CDM model", "the ΛCDM model"),
    (r"$\beta$-VAE", "β-VAE"),
    (r"$H_0$ tension", "H₀ tension"),
    (r"$z \approx 7$ galaxies", "z ≈ 7 galaxies"),
    (r"$T_c \approx 90\,\mathrm{K}$", "T_c ≈ 90 K"),
    (r"$\partial_t u = \Delta u$", "∂ₜ u = Δu"),
    (r"$\nabla f$", "∇f"),
    (r"$A \subseteq B$", "A ⊆ B"),
    (r"$f: X \to Y$", "f: X → Y"),
    (r"$\left(\frac{a}{b}\right)$", "(a/b)"),
    (r"$\|x\|_2$", "‖x‖₂"),
    (r"$|S| \ll n$", "|S| ≪ n"),
    (r"$x^\top y$", "xᵀy"),
    (r"$\pm 0.5$", "±0.5"),
    (r"\(\alpha\)-mixing", "α-mixing"),
    (r"display \[E = mc^2\] here", "display E = mc² here"),
    (r"double $$\sum_i x_i$$ sum", "double ∑ᵢ xᵢ sum"),
    (r"$\sqrt[3]{x}$", "∛x"),
    (r"$\mathbb{1}[x>0]$", "𝟙[x>0]"),
    # Not maths, or maths kept as written
    ("It costs $5 to $10 per GPU hour", "It costs $5 to $10 per GPU hour"),
    ("prices from $5-$10", "prices from $5-$10"),
    ("a $ sign alone", "a $ sign alone"),
    (r"saves 30\% of \$ spent", "saves 30% of $ spent"),
    (r"R\&D with \emph{new} ideas", "R&D with new ideas"),
    (r"$\hat{xy}$ stays", r"$\hat{xy}$ stays"),
    (r"$\foo{x} + y$ stays", r"$\foo{x} + y$ stays"),
    (r"$\begin{pmatrix} a & b \end{pmatrix}$", r"$\begin{pmatrix} a & b \end{pmatrix}$"),
    (r"$\frac{a}{b$ unbalanced", r"$\frac{a}{b$ unbalanced"),
    (r"$\sqrt[5]{x}$ stays", r"$\sqrt[5]{x}$ stays"),
    (r"\unknown outside maths", r"\unknown outside maths"),
    ("plain title, no TeX at all", "plain title, no TeX at all"),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize(("tex", "expected"), CASES)
def test_to_unicode(tex: str, expected: str) -> None:
    assert to_unicode(tex) == expected


def _mathml_of(html: str) -> list[etree._Element]:
    root = etree.fromstring(f"<div>{html}</div>")
    return root.findall("{http://www.w3.org/1998/Math/MathML}math")


@pytest.mark.parametrize(("tex", "expected"), CASES)
def test_to_html_is_well_formed_with_maths_where_unicode_has_it(tex: str, expected: str) -> None:
    html = str(to_html(tex))
    maths = _mathml_of(html)  # also proves the whole fragment parses
    has_maths = any(mark in tex for mark in ("$", "\\(", "\\["))
    if has_maths and "$" not in expected:
        assert maths, html
    if not maths:
        assert html == str(escape(expected))


def test_to_html_renders_mathml_for_the_site() -> None:
    html = str(to_html(r"Embeddings in $\mathbb{R}^n$ & <b>bold</b> claims"))
    assert html.startswith("Embeddings in <math ")
    assert "<msup><mi>ℝ</mi><mi>n</mi></msup>" in html
    assert html.endswith("&amp; &lt;b&gt;bold&lt;/b&gt; claims")


def test_to_html_display_maths_is_a_block() -> None:
    assert 'display="block"' in str(to_html(r"$$E = mc^2$$"))


@pytest.mark.parametrize(
    "tex",
    [
        r"$\text{<script>alert(1)</script>}$",
        r"$\href{javascript:alert(1)}{x}$",
        r"$\style{color:red}{x}$",
        r"$\color{red}{x}$",
        r"$\text{a & b}$",
    ],
)
def test_to_html_never_passes_markup_or_links_from_the_tex(tex: str) -> None:
    html = str(to_html(tex))
    assert "<script" not in html and "href" not in html.replace("\\href", "")
    assert "style=" not in html and "mathcolor" not in html
    assert html == str(to_html(tex).__html__())
    assert "<math" not in html  # shown as the escaped TeX instead


def test_to_html_keeps_unknown_commands_as_written() -> None:
    assert str(to_html(r"the $\foo{x}$ map")) == r"the $\foo{x}$ map"


def test_to_html_escapes_text_outside_maths() -> None:
    assert str(to_html('a "quoted" <i>title</i>')) == "a &#34;quoted&#34; &lt;i&gt;title&lt;/i&gt;"
