package httpapi

import (
	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// BatchMediaType is api.BatchMediaType: the binary batch of POST /v1/txs.
const BatchMediaType = api.BatchMediaType

// EncodeBatch is api.EncodeBatch.
func EncodeBatch(txs []*quant.Tx) []byte { return api.EncodeBatch(txs) }

// DecodeBatch is api.DecodeBatch.
func DecodeBatch(b []byte, max int) ([]*quant.Tx, error) { return api.DecodeBatch(b, max) }
