"""The repayment ledger: the one place that writes repayments, their allocation lines, their reversals and what
they move on the installments and the loan, and that reads them back as answers.

Every money movement is a `Batch` written by one statement (`write`, write.py): the API's posting is a batch of
one, a reversal a batch of one reversal, a bank file's part a batch of thousands, all in the same shape — the
repayment, reversal and allocation inserts, the installments' and loans' changes as deltas, and the audit events,
their rows unnested from arrays (a small batch) or COPYed into temporary tables first (a large one) — and every
one is read back as `RepaymentEntry` (entries.py). The statement writes all of a batch or none of it: a batch of
one whose bank reference is already posted, or whose repayment is already reversed, writes nothing (its insert
skips the row, and every write is conditional on the inserts); in a batch of several such an entry fails the
statement, and `write` refuses the batch (`PartlyWritten`).

What a value-dated replay changes beyond the new repayments (standing repayments allocated again, the penalty
ledger, the installments' and loans' sums set anew) is written here too (`write_replays`, replays.py), as the
consequence the replay computed (value_dating.py).

One package rather than one module: the write, the reads and the replay's write are three concerns of about a
hundred lines each, which together would pass the 400 lines a module is held to.

The ledger is where the asyncpg driver is used for the repayments (loans/core/driver.py): a posting's reads, its
write and the refresh of the loans it touched run on the driver connection under the session's transaction,
compiled once from their SQLAlchemy form; SQLAlchemy's execution path cost a posting more CPU than the driver's.
"""

from loans.repayments.ledger.entries import (
    INSTALLMENT_STATES,
    LINE_FIELDS,
    Author,
    Connection,
    RepaymentEntry,
    connection,
    entries,
    installment_states,
    open_installment_states,
    refresh,
    repayment_of,
)
from loans.repayments.ledger.replays import write_replays
from loans.repayments.ledger.write import Batch, PartlyWritten, write

__all__ = [
    "INSTALLMENT_STATES", "LINE_FIELDS", "Author", "Batch", "Connection", "PartlyWritten", "RepaymentEntry",
    "connection", "entries", "installment_states", "open_installment_states", "refresh", "repayment_of", "write",
    "write_replays",
]  # fmt: skip
