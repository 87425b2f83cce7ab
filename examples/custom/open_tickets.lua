-- Open tickets per client: GET /api/v1/custom/open_tickets.php
--
-- One row per client with at least one ticket that is neither resolved, closed nor archived:
-- client_id, client_name, open_tickets. A key of one client sees only that client's row.
return function(req, db, key)
  local scope, values = key.scope("t.ticket_client_id")
  return db.rows(
    "SELECT c.client_id, c.client_name, COUNT(*) AS open_tickets" ..
    " FROM tickets t JOIN clients c ON c.client_id = t.ticket_client_id" ..
    " WHERE t.ticket_resolved_at IS NULL AND t.ticket_closed_at IS NULL" ..
    " AND t.ticket_archived_at IS NULL AND " .. scope ..
    " GROUP BY c.client_id, c.client_name ORDER BY c.client_id",
    table.unpack(values))
end
