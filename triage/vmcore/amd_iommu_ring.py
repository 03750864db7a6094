"""AMD IOMMU command ring: COMPLETION_WAIT commands and the completion-wait semaphore.

Mirrors ``drivers/iommu/amd/iommu.c``: ``copy_cmd_to_buffer()`` writes 16-byte ``struct
iommu_cmd`` entries into ``iommu->cmd_buf`` at ``cmd_buf_tail``; ``build_completion_wait()``
makes the COMPLETION_WAIT command that tells the IOMMU to store a sequence value to the
completion-wait buffer (CWB, ``cmd_sem``); ``iommu_completion_wait()`` issues it and
``wait_on_sem()`` polls ``*cmd_sem`` for the value.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..model.vmcore import CmdSemState, CompletionWait, Fact
from ._read import READ_ERRORS, unavailable_reason

if TYPE_CHECKING:
    import drgn

__all__ = [
    "CMD_BUFFER_SIZE", "CMD_ENTRY_SIZE", "CMD_COMPL_WAIT", "CMD_COMPL_WAIT_STORE_MASK", "CMD_COMPL_WAIT_INT_MASK",
    "decode_command", "ring_completion_waits", "match_completion_waits", "iommu_command_ring", "cmd_sem_state",
]

# drivers/iommu/amd/amd_iommu_types.h: #define CMD_BUFFER_SIZE 8192 (CMD_BUFFER_ENTRIES 512)
CMD_BUFFER_SIZE = 8192
# sizeof(struct iommu_cmd) = sizeof(u32 data[4]) (drivers/iommu/amd/amd_iommu_types.h)
CMD_ENTRY_SIZE = 16
# drivers/iommu/amd/amd_iommu_types.h: #define CMD_COMPL_WAIT 0x01
CMD_COMPL_WAIT = 0x1
# drivers/iommu/amd/amd_iommu_types.h: #define CMD_COMPL_WAIT_STORE_MASK 0x01
CMD_COMPL_WAIT_STORE_MASK = 0x1
# drivers/iommu/amd/amd_iommu_types.h: #define CMD_COMPL_WAIT_INT_MASK 0x02
CMD_COMPL_WAIT_INT_MASK = 0x2

# The store address field of a COMPLETION_WAIT: physical address bits 51:3.
_STORE_ADDRESS_MASK = ((1 << 52) - 1) & ~0x7


def decode_command(dwords: Sequence[int]) -> tuple[int, int, int]:
    """Take apart a 16-byte IOMMU command as ``build_completion_wait()`` builds it.

    ``data[0]`` = low 32 bits of the store address | S (bit 0) | I (bit 1) (bit 2 = F in the
    AMD spec, unconfirmed); ``data[1]`` = address bits 51:32 in its bits 19:0 and the opcode in
    bits 31:28 (``CMD_SET_TYPE()`` in drivers/iommu/amd/iommu.c); ``data[2]``/``data[3]`` =
    low/high half of the 64-bit value to store (before ~6.0 only ``data[2]``). The address is
    8-byte aligned, so its bits 2:0 carry the flags.

    :param dwords: the four ``u32 data[4]`` of a ``struct iommu_cmd``
    :return: (opcode, store address, data)
    """
    opcode = dwords[1] >> 28
    address = ((dwords[1] & 0xFFFFF) << 32) | (dwords[0] & 0xFFFFFFF8)
    data = (dwords[3] << 32) | dwords[2]
    return opcode, address, data


def ring_completion_waits(ring: bytes, tail: int, count: int = 4) -> list[CompletionWait]:
    """The ``count`` most recent COMPLETION_WAIT entries, walking backwards from ``tail``.

    :param ring: the bytes of ``iommu->cmd_buf``
    :param tail: ``iommu->cmd_buf_tail``, the byte offset the next command goes to
    :return: the waits found, newest first
    """
    slots = len(ring) // CMD_ENTRY_SIZE
    found: list[CompletionWait] = []
    start = (tail // CMD_ENTRY_SIZE) % slots if slots else 0
    for age in range(slots):
        slot = (start - 1 - age) % slots
        offset = slot * CMD_ENTRY_SIZE
        dwords = tuple(int.from_bytes(ring[offset + 4 * i: offset + 4 * i + 4], "little") for i in range(4))
        opcode, address, data = decode_command(dwords)
        if opcode != CMD_COMPL_WAIT:
            continue
        found.append(CompletionWait(slot, offset, age, dwords, bool(dwords[0] & CMD_COMPL_WAIT_STORE_MASK),
                                    bool(dwords[0] & CMD_COMPL_WAIT_INT_MASK), address, data))
        if len(found) >= count:
            break
    return found


def match_completion_waits(waits: list[CompletionWait], phys: Fact, sme: int, paddr: Fact) -> None:
    """Fill the ``matches_*`` flags of decoded waits.

    The store address ``build_completion_wait()`` uses is ``iommu_virt_to_phys(cmd_sem)``, the
    physical address with the SME C-bit (<= 6.17), or ``iommu->cmd_sem_paddr`` (>= 6.18, commit
    f32fe7cb0198).

    :param phys: physical address of ``cmd_sem`` (without the C-bit)
    :param sme: ``sme_me_mask``
    :param paddr: ``iommu->cmd_sem_paddr``
    """
    for wait in waits:
        if phys.available:
            wait.matches_cwb = wait.store_address == phys.value & _STORE_ADDRESS_MASK
            wait.matches_cwb_with_sme = wait.store_address == (phys.value | sme) & _STORE_ADDRESS_MASK
        if paddr.available:
            wait.matches_cmd_sem_paddr = wait.store_address == paddr.value & _STORE_ADDRESS_MASK


def iommu_command_ring(prog: "drgn.Program", iommu: "drgn.Object",
                       count: int = 4) -> tuple[Fact, list[CompletionWait]]:
    """Read ``cmd_buf`` (8 KiB, 512 x 16 B) and decode the last COMPLETION_WAIT commands.

    :param iommu: ``struct amd_iommu *``
    :return: (a status Fact saying how many were found or why the ring was unreadable,
        the waits newest first)
    """
    source = "struct amd_iommu.cmd_buf[0..8192) from cmd_buf_tail backwards"
    try:
        ring = prog.read(iommu.cmd_buf.value_(), CMD_BUFFER_SIZE)
        tail = iommu.cmd_buf_tail.value_()
    except READ_ERRORS as exc:
        return Fact.missing(source, unavailable_reason(exc)), []
    waits = ring_completion_waits(ring, tail, count)
    status = f"{len(waits)} COMPLETION_WAIT command(s) found in the ring"
    return Fact(status, source), waits


def cmd_sem_state(value: Fact, issued: Fact) -> Fact:
    """Compare ``*cmd_sem`` (last value the IOMMU stored) with ``cmd_sem_val`` (last issued).

    ``iommu_completion_wait()`` increments ``cmd_sem_val`` and queues a COMPLETION_WAIT storing
    it; ``wait_on_sem()`` polls ``*cmd_sem`` until it gets there. So a stored value behind the
    issued one is an outstanding or timed-out wait, and 0 means the IOMMU never wrote the page
    (e.g. it stores to a different, locked CWB address). Derived from the code, unconfirmed.

    :return: a Fact whose value is a :data:`~triage.model.vmcore.CmdSemState`
    """
    note = "unconfirmed: derived from the driver's completion-wait logic"
    if not (value.available and issued.available):
        return Fact.missing("derived: *cmd_sem vs cmd_sem_val", "needs both *cmd_sem and cmd_sem_val", note)
    stored, last = value.value, issued.value
    state: CmdSemState
    if last == 0:
        state = "no completion wait issued"
    elif stored == last:
        state = "caught up"
    elif stored == 0:
        state = "never written by the IOMMU"
    else:
        state = "behind (completion wait outstanding or timed out)"
    return Fact(state, "derived: *cmd_sem vs cmd_sem_val", None, note)
