package chain

import (
	"errors"

	"github.com/qbc-chain/qbc/internal/encrypt/envelope"
	"github.com/qbc-chain/qbc/internal/quant"
)

// The node side of encryption to readers: the chain checks that the
// fields its rules list are encrypted, through package envelope, which
// knows the form of an encrypted field and an age file's header but holds
// no cryptography (chain does not import age).

// checkEncrypted requires, on a chain whose rules list encrypted_fields,
// every listed field a JSON transaction holds to be an encrypted field
// ("age:" and the base64 of an age file), and a bytes payload to be an
// age file. It stops a client that forgot to encrypt from putting
// plaintext on every node's disk, where no one can take it back.
func (c *Chain) checkEncrypted(tx *quant.Tx) error {
	if len(c.rules.EncryptedFields) == 0 {
		return nil
	}
	if tx.Kind != quant.DataJSON {
		if !envelope.IsAge(tx.Data) {
			return quant.Errorf(quant.CodeNotEncrypted, "this chain encrypts %v: a bytes payload must be an age file", c.rules.EncryptedFields)
		}
		return nil
	}
	ps, err := quant.EncryptedPointers(c.rules)
	if err != nil {
		return err // the rules were checked at creation
	}
	if err := envelope.CheckFields(tx.Data, ps); err != nil {
		if errors.Is(err, envelope.ErrDocument) {
			return quant.Errorf(quant.CodeBadData, "%v", err)
		}
		return quant.Errorf(quant.CodeNotEncrypted, "%v", err)
	}
	return nil
}

// schemaData returns what the chain's schema checks of a JSON
// transaction's data: all of it, or on a chain with encrypted_fields the
// data without those fields (their ciphertext is no value the schema
// could check).
func (c *Chain) schemaData(tx *quant.Tx) ([]byte, error) {
	if len(c.rules.EncryptedFields) == 0 {
		return tx.Data, nil
	}
	ps, err := quant.EncryptedPointers(c.rules)
	if err != nil {
		return nil, err
	}
	data, err := envelope.Strip(tx.Data, ps)
	if err != nil {
		return nil, quant.Errorf(quant.CodeBadData, "%v", err)
	}
	return data, nil
}
