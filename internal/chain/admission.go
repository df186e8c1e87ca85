package chain

import (
	"unicode/utf8"

	"github.com/qbc-chain/qbc/internal/quant"
)

// CheckTx checks a transaction for admission to this chain's pool: its
// chain id, payload, signature, zk proof, the write policy, its time, that
// it is not already in the chain and, for a record write, the key's lock
// (and a membership proof's root and nullifier).
func (c *Chain) CheckTx(tx *quant.Tx, id quant.Hash) error {
	now := c.opts.Now().UnixMilli()
	if _, known := c.checked.get(id); known {
		if err := checkTxTime(tx, now, c.rules.MaxTimeDriftMs); err != nil {
			return err
		}
	} else {
		if err := c.checkTxWriter(tx, now); err != nil {
			return err
		}
		if err := quant.CheckTxSignature(tx); err != nil {
			return err
		}
		if err := c.checkTxProof(tx); err != nil {
			return err
		}
		if err := c.checkTxData(tx); err != nil {
			return err
		}
		c.checked.add(id, struct{}{})
	}
	if err := c.checkNotCommitted(id); err != nil {
		return err
	}
	return c.checkRecordNow(tx, now)
}

// CheckTxs is CheckTx for a run of transactions (ids are their ids),
// verifying signatures as a batch; it returns one error (or nil) per
// transaction. It does not keep txs.
//
// CheckTx and CheckTxs check what depends only on a transaction and the
// chain's rules once for each id they saw pass lately (checkedGen), and
// what can change every time.
func (c *Chain) CheckTxs(txs []*quant.Tx, ids []quant.Hash) []error {
	errs := make([]error, len(txs))
	now := c.opts.Now().UnixMilli()
	known := c.checked.has(ids)
	for i, tx := range txs {
		if known[i] {
			errs[i] = checkTxTime(tx, now, c.rules.MaxTimeDriftMs)
		} else {
			errs[i] = c.checkTxWriter(tx, now)
		}
	}
	for skipFrom := 0; skipFrom < len(txs); {
		i, err := quant.CheckTxSignatures(txs[skipFrom:], func(j int) bool { return errs[skipFrom+j] != nil || known[skipFrom+j] })
		if err == nil {
			break
		}
		errs[skipFrom+i] = err
		skipFrom += i + 1
	}
	c.checkTxProofsInto(txs, errs, func(i int) bool { return known[i] })
	for i := range txs {
		if errs[i] == nil && !known[i] {
			if errs[i] = c.checkTxData(txs[i]); errs[i] == nil {
				c.checked.add(ids[i], struct{}{})
			}
		}
		if errs[i] == nil {
			errs[i] = c.checkNotCommitted(ids[i])
		}
		if errs[i] == nil {
			errs[i] = c.checkRecordNow(txs[i], now)
		}
	}
	return errs
}

// checkTxRules checks everything about one transaction but its signature
// and duplicates: checkTxWriter, then checkTxData.
func (c *Chain) checkTxRules(tx *quant.Tx, now int64) error {
	if err := c.checkTxWriter(tx, now); err != nil {
		return err
	}
	return c.checkTxData(tx)
}

// checkTxWriter checks what costs little and needs no look inside the
// payload: the chain, the time, the payload's size, and the write policy
// and key rules. Admission runs it before the signature and the payload
// checks (checkTxData), so that a writer the chain refuses, or an
// oversized payload, never costs a signature check or a JSON Schema run.
func (c *Chain) checkTxWriter(tx *quant.Tx, now int64) error {
	if err := checkTxChain(tx, c.id); err != nil {
		return err
	}
	if err := checkTxTime(tx, now, c.rules.MaxTimeDriftMs); err != nil {
		return err
	}
	if err := checkDataSize(tx, c.rules.MaxDataBytes); err != nil {
		return err
	}
	if err := c.rules.Allows(tx); err != nil {
		return err
	}
	return c.rules.AllowsKey(tx)
}

// checkTxData checks the payload: its form (canonical JSON, bounded
// nesting), the encrypted fields and the schema. It is the costliest
// check of a transaction, run after its signature.
func (c *Chain) checkTxData(tx *quant.Tx) error {
	if err := quant.CheckPayload(tx); err != nil {
		return err
	}
	if err := c.checkEncrypted(tx); err != nil {
		return err
	}
	return c.checkSchema(tx)
}

// checkDataSize refuses a payload over the chain's limit. It stops one
// writer from filling quants (and every node's disk) with large records.
func checkDataSize(tx *quant.Tx, limit int) error {
	if len(tx.Data) > limit {
		return quant.Errorf(quant.CodeTooLarge, "payload is %d bytes, this chain's limit is %d", len(tx.Data), limit)
	}
	return nil
}

// checkSchema requires a transaction's data to match the chain's schema, if
// it has one. It keeps data meant for another purpose off the chain.
func (c *Chain) checkSchema(tx *quant.Tx) error {
	if c.schema == nil {
		return nil
	}
	if tx.Kind != quant.DataJSON {
		return quant.Errorf(quant.CodeBadData, "this chain takes JSON data matching its schema, not bytes")
	}
	data, err := c.schemaData(tx)
	if err != nil {
		return err
	}
	if err := c.schema.Validate(data); err != nil {
		return quant.Errorf(quant.CodeBadData, "%s", capText(err.Error(), maxErrorText))
	}
	return nil
}

// maxErrorText bounds the text of a refusal that may quote the payload
// (a schema's errors do), so that a small transaction cannot draw a large
// answer, nor a batch a multiple of it.
const maxErrorText = 1024

// capText cuts s to at most n bytes, on a rune boundary, marking the cut.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(" …")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " …"
}

// checkTxNow checks what may have changed since a transaction was
// admitted (its time against now) for one this node verified, and
// everything for one it did not.
func (c *Chain) checkTxNow(tx *quant.Tx, verified bool, now int64) error {
	if verified {
		return checkTxTime(tx, now, c.rules.MaxTimeDriftMs)
	}
	return c.checkTxRules(tx, now)
}

// verified reports whether a transaction's static rules and signature
// passed here already: at admission to the pool (Options.Verified), or in
// a CheckTx or CheckTxs lately (checked). A raft follower applies the
// transactions its own API took, and forwarded to the leader, without
// checking them twice.
func (c *Chain) verified(id quant.Hash) bool {
	if c.opts.Verified != nil && c.opts.Verified(id) {
		return true
	}
	_, ok := c.checked.get(id)
	return ok
}

// checkTxChain requires the transaction to name this chain. It stops a
// record signed for one chain from being replayed on another.
func checkTxChain(tx *quant.Tx, id quant.Hash) error {
	if tx.ChainID != id {
		return quant.Errorf(quant.CodeWrongChain, "transaction is for chain %s, not %s", tx.ChainID, id)
	}
	return nil
}

// checkTxTime checks a transaction's time: not in the future beyond the
// drift (checkTxNotTooNew), not before the epoch (checkTxNotTooOld).
func checkTxTime(tx *quant.Tx, now, drift int64) error {
	if err := checkTxNotTooNew(tx, now, drift); err != nil {
		return err
	}
	return checkTxNotTooOld(tx)
}

// checkTxNotTooNew refuses a transaction dated further in the future than
// the chain's drift allows. It stops writers from post-dating records.
func checkTxNotTooNew(tx *quant.Tx, now, drift int64) error {
	if tx.Time > now+drift {
		return quant.Errorf(quant.CodeTimeTooNew, "transaction time %d is more than %d ms ahead of %d", tx.Time, drift, now)
	}
	return nil
}

// checkTxNotTooOld refuses a transaction dated before the epoch. It stops
// a record from sorting before every real one in time order.
func checkTxNotTooOld(tx *quant.Tx) error {
	if tx.Time < 0 {
		return quant.Errorf(quant.CodeTimeTooOld, "transaction time %d is negative", tx.Time)
	}
	return nil
}

// checkNotCommitted refuses a transaction the chain already holds. It stops
// replays of committed records.
func (c *Chain) checkNotCommitted(id quant.Hash) error {
	has, err := c.st.HasTx(id)
	if err != nil {
		return err
	}
	if has {
		return quant.Errorf(quant.CodeDuplicate, "transaction %s is already committed", id)
	}
	return nil
}
