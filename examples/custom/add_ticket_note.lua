-- Add an internal note to a ticket: POST /api/v1/custom/add_ticket_note.php
--   {"ticket_id": 12, "note": "Called the user back", "time_worked": "00:15:00"}
--
-- The ticket must be one the key may see. The note and the ticket's updated time are written in
-- one transaction; the answer is the v1 create answer with the new reply's id.
return function(req, db, key)
  local ticket_id = math.tointeger(tonumber(req.param("ticket_id")))
  local note = req.param("note")
  if not ticket_id or ticket_id <= 0 then
    return { error = "ticket_id must be a positive number", status = 400 }
  end
  if type(note) ~= "string" or note == "" then
    return { error = "note is required", status = 400 }
  end
  local worked = req.param("time_worked")
  if worked ~= nil and (type(worked) ~= "string" or not worked:match("^%d%d:%d%d:%d%d$")) then
    return { error = "time_worked must be HH:MM:SS", status = 400 }
  end
  local scope, values = key.scope("ticket_client_id")
  local found = db.rows("SELECT ticket_id FROM tickets WHERE ticket_id = ? AND " .. scope,
                        ticket_id, table.unpack(values))
  if #found == 0 then
    return { error = "No ticket with this ticket_id for this key.", status = 404 }
  end
  local _, reply_id = db.exec(
    "INSERT INTO ticket_replies (ticket_reply, ticket_reply_type, ticket_reply_time_worked," ..
    " ticket_reply_by, ticket_reply_ticket_id) VALUES (?, 'Internal', ?, 0, ?)",
    note, worked, ticket_id)
  db.exec("UPDATE tickets SET ticket_updated_at = CURRENT_TIMESTAMP WHERE ticket_id = ?", ticket_id)
  return { insert_id = reply_id }
end
