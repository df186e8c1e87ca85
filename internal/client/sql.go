package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
)

// SQL runs one read-only SQL statement on the node's projection (POST
// /v1/sql); maxRows 0 takes the node's default.
func (c *Client) SQL(ctx context.Context, query string, maxRows int) (*api.SQLResult, error) {
	body, err := json.Marshal(api.SQLQuery{Query: query, MaxRows: maxRows})
	if err != nil {
		return nil, err
	}
	var out api.SQLResult
	if err := c.do(ctx, http.MethodPost, "/v1/sql", "application/json", body, MaxLargeResponse, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SQLCheck compares the node's projection with its chains (GET
// /v1/sql/check).
func (c *Client) SQLCheck(ctx context.Context) (api.SQLChecks, error) {
	var out api.SQLChecks
	err := c.do(ctx, http.MethodGet, "/v1/sql/check", "", nil, MaxSmallResponse, &out)
	return out, err
}

// SQLRebuild drops the projection of the client's chain (the node's
// default without OnChain), which the node then projects again from its
// bang (POST /v1/chains/{id}/sql/rebuild).
func (c *Client) SQLRebuild(ctx context.Context) error {
	var out struct{}
	return c.do(ctx, http.MethodPost, c.v1("/sql/rebuild"), "", nil, MaxSmallResponse, &out)
}
