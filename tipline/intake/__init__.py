"""Anonymous encrypted tip intake: the web tip box, receipts and the tipster mailbox."""
