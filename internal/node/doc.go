// Package node is one Sceau installation: the layout of its data directory,
// its creation (Init), its opening (Open) by 'sceau serve' and the local
// commands, the creation of its CAs (CreateCAs, shared by init, 'sceau ca
// create' and key ceremonies), and the wiring of every domain package into
// a running service (Serve), or into a public-only one (ServePublic) that
// serves the public listener of several nodes' shared database.
//
// It is the composition root below cmd/sceau: the command turns flags and
// prompts into Options and prints what comes back; everything that touches
// the database, the key stores or the files of the installation happens
// here or in the domain packages that node calls.
//
// Invariants:
//   - every path of the data directory and every key label comes from
//     Layout (sceau.CAKeyLabel for CA keys);
//   - a failed Init leaves the directory as it found it (absent or empty);
//   - Close deactivates every key (KEY-5): a node that is closed signs
//     nothing, and a new process signs only after activation;
//   - a public-only node (OpenPublic) opens no keystore and its database
//     sessions are read-only: it signs and writes nothing (SYS-2,
//     docs/scaling.md).
package node
