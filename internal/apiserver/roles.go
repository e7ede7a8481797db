package apiserver

func (s *Server) roleRoutes() {}
